import { LocalDirectoryStore } from './local-directory-store.ts';
import type { ObjectStore } from './object-store.ts';
import type { StorageConfig } from './storage-config.ts';

/**
 * The store a configuration names, checked before use: an S3 bucket must exist and accept
 * these credentials. The S3 client is loaded only when S3 is chosen (the embedded default
 * never pays for it).
 */
export async function openObjectStore(config: StorageConfig): Promise<ObjectStore> {
  if (config.kind === 'local') return new LocalDirectoryStore(config.dir, config.shared);
  const { S3ObjectStore } = await import('./s3-object-store.ts');
  const store = new S3ObjectStore(config);
  try {
    await store.verify();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
