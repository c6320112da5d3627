export { assertKeyPrefix, assertObjectKey, InvalidObjectKeyError, isObjectKey, OBJECT_KEY_RULE } from './object-key.ts';
export {
  ObjectNotFoundError,
  ObjectRangeError,
  readObject,
  StorageError,
  type ByteRange,
  type ObjectBody,
  type ObjectInfo,
  type ObjectStore,
} from './object-store.ts';
export { LocalDirectoryStore } from './local-directory-store.ts';
export { openObjectStore } from './open-object-store.ts';
export { storageConfigFromEnv, StorageConfigError, type LocalStorageConfig, type S3StorageConfig, type StorageConfig } from './storage-config.ts';
