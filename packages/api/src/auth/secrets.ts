import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** An opaque random secret (256 bits, base64url): session cookies, API tokens, invites, setup links. */
export const newSecret = (): string => randomBytes(32).toString('base64url');

/** Secrets are stored only as their sha256: a leaked database does not hand out sessions. */
export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/**
 * Password hashing: scrypt from node:crypto (no hand-written crypto). N = 2^15, r = 8, p = 1
 * is 32 MiB and roughly 50–100 ms per hash on this class of machine, and runs on libuv's
 * thread pool, so logins never block the event loop.
 */
export const SCRYPT_PARAMS = { N: 2 ** 15, r: 8, p: 1, keyLength: 32 } as const;

function scryptAsync(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

const options = (N: number, r: number, p: number): ScryptOptions => ({ N, r, p, maxmem: 256 * N * r + 1024 * 1024 });

/** The cost N of new hashes: SCRYPT_PARAMS.N unless a test run lowered it. */
let hashCostN: number = SCRYPT_PARAMS.N;

/** The lowest cost a test run may choose (1 MiB): still real scrypt, only cheaper. */
export const TEST_SCRYPT_MIN_N = 2 ** 10;

/**
 * Test runs only: hash new passwords with scrypt cost N (default: back to SCRYPT_PARAMS.N), so
 * suites that create and sign in hundreds of people do not spend minutes in scrypt. There is no
 * setting for it, and it throws outside vitest (VITEST=true), so no deployment can lower it.
 * Verification always uses the parameters stored with each hash.
 */
export function usePasswordHashCostForTests(N: number = SCRYPT_PARAMS.N): void {
  if (process.env.VITEST !== 'true') throw new Error('usePasswordHashCostForTests is for test runs only (VITEST=true); passwords are hashed with SCRYPT_PARAMS.');
  if (!Number.isInteger(Math.log2(N)) || N < TEST_SCRYPT_MIN_N || N > SCRYPT_PARAMS.N) {
    throw new Error(`scrypt cost N must be a power of two from ${TEST_SCRYPT_MIN_N} to ${SCRYPT_PARAMS.N}; got ${N}.`);
  }
  hashCostN = N;
}

/** "scrypt$N$r$p$salt$hash": the parameters travel with the hash, so the cost can be raised later. */
export async function hashPassword(password: string): Promise<string> {
  const { r, p, keyLength } = SCRYPT_PARAMS;
  const N = hashCostN;
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, keyLength, options(N, r, p));
  return ['scrypt', N, r, p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await scryptAsync(password, Buffer.from(salt, 'base64'), expected.length, options(Number(n), Number(r), Number(p)));
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** Compared against when the email is unknown, so both failures take the same time (one per cost N). */
const decoyHashes = new Map<number, Promise<string>>();
export function decoyPasswordHash(): Promise<string> {
  let decoy = decoyHashes.get(hashCostN);
  if (!decoy) decoyHashes.set(hashCostN, (decoy = hashPassword(newSecret())));
  return decoy;
}
