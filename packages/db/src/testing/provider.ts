import type { DatabaseProvider } from '../database-url.ts';

/**
 * Which database the conformance suites run on: CHORUS_TEST_DATABASE=postgresql runs them on
 * a fresh PostgreSQL database per test file; unset (or sqlite) keeps the SQLite file.
 */
export function testDatabaseProvider(): DatabaseProvider {
  const v = (process.env.CHORUS_TEST_DATABASE ?? 'sqlite').trim().toLowerCase();
  if (v === 'sqlite' || v === '') return 'sqlite';
  if (v === 'postgresql' || v === 'postgres') return 'postgresql';
  throw new Error(`CHORUS_TEST_DATABASE must be "sqlite" or "postgresql"; got "${v}".`);
}
