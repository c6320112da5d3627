/**
 * Object keys are the relative paths the database stores (`uploads/<sha256>.wav`,
 * `outputs/<jobId>.wav`). One rule for every store, so a key valid on disk is valid in a
 * bucket and no key can leave the store's root.
 */

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const MAX_KEY_LENGTH = 512;
/** Suffix of a local store's half-written files; refused as a key so they can never be mistaken for objects. */
export const PARTIAL_SUFFIX = '.tmp';

export const OBJECT_KEY_RULE =
  'A key is 1-512 characters: segments separated by "/", each starting with a letter or digit and made of letters, digits, ".", "_" and "-" (so no "..", no leading "/", no spaces), and not ending in ".tmp".';

/** A key that breaks OBJECT_KEY_RULE: a bug in the caller, never a user's input. */
export class InvalidObjectKeyError extends Error {
  override readonly name = 'InvalidObjectKeyError';
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`Invalid object key ${JSON.stringify(key)}: ${reason}. ${OBJECT_KEY_RULE}`);
  }
}

function keyProblem(key: string): string | null {
  if (key.length === 0) return 'it is empty';
  if (key.length > MAX_KEY_LENGTH) return `it is ${key.length} characters long`;
  if (key.endsWith(PARTIAL_SUFFIX)) return `"${PARTIAL_SUFFIX}" is reserved for half-written files`;
  for (const segment of key.split('/')) {
    if (segment === '') return 'it has an empty segment (a leading, trailing or doubled "/")';
    if (segment === '.' || segment === '..') return `"${segment}" would leave its folder`;
    if (!SEGMENT.test(segment)) return `segment ${JSON.stringify(segment)} has a character outside the allowed set or does not start with a letter or digit`;
  }
  return null;
}

export function isObjectKey(key: string): boolean {
  return keyProblem(key) === null;
}

export function assertObjectKey(key: string): void {
  const problem = keyProblem(key);
  if (problem) throw new InvalidObjectKeyError(key, problem);
}

/** A list prefix: '' (everything), or whole segments each followed by "/", then optionally the start of one more. */
export function assertKeyPrefix(prefix: string): void {
  if (prefix === '') return;
  const segments = prefix.split('/');
  const last = segments.pop()!;
  if (prefix.length > MAX_KEY_LENGTH) throw new InvalidObjectKeyError(prefix, `the prefix is ${prefix.length} characters long`);
  for (const segment of segments) {
    if (!SEGMENT.test(segment)) throw new InvalidObjectKeyError(prefix, `prefix segment ${JSON.stringify(segment)} is not a valid segment`);
  }
  if (last !== '' && !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(last)) throw new InvalidObjectKeyError(prefix, `prefix ending ${JSON.stringify(last)} is not the start of a valid segment`);
}
