import { afterEach, describe, expect, it, vi } from 'vitest';
import { decoyPasswordHash, hashPassword, SCRYPT_PARAMS, TEST_SCRYPT_MIN_N, usePasswordHashCostForTests, verifyPassword } from '../src/auth/secrets.ts';

const costOf = (hash: string): number => Number(hash.split('$')[1]);

describe('password hashing cost', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    usePasswordHashCostForTests();
  });

  it('hashes at the production cost by default, and a hash of either cost verifies whatever the current cost is', async () => {
    const strong = await hashPassword('a good long password');
    expect(strong).toMatch(/^scrypt\$32768\$8\$1\$/);
    expect(costOf(strong)).toBe(SCRYPT_PARAMS.N);
    usePasswordHashCostForTests(TEST_SCRYPT_MIN_N);
    const cheap = await hashPassword('a good long password');
    expect(costOf(cheap)).toBe(TEST_SCRYPT_MIN_N);
    expect(costOf(await decoyPasswordHash())).toBe(TEST_SCRYPT_MIN_N);
    expect(await verifyPassword('a good long password', strong)).toBe(true);
    expect(await verifyPassword('a good long password', cheap)).toBe(true);
    expect(await verifyPassword('a wrong password', cheap)).toBe(false);
    usePasswordHashCostForTests();
    expect(costOf(await hashPassword('x'.repeat(10)))).toBe(SCRYPT_PARAMS.N);
    expect(costOf(await decoyPasswordHash())).toBe(SCRYPT_PARAMS.N);
  });

  it('refuses outside a test run, and refuses costs that are not a power of two in range', () => {
    vi.stubEnv('VITEST', '');
    expect(() => usePasswordHashCostForTests(TEST_SCRYPT_MIN_N)).toThrow(/for test runs only/);
    vi.unstubAllEnvs();
    for (const N of [2 ** 9, 2 ** 16, 1000, 0]) expect(() => usePasswordHashCostForTests(N)).toThrow(/must be a power of two/);
  });
});
