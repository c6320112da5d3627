import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import pg from 'pg';
import { migratePostgres } from '../postgres-migrate.ts';

/** Where the tests find PostgreSQL (trust auth on this machine and in CI). */
const ADMIN_URL = process.env.CHORUS_TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

async function answers(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Start the machine's PostgreSQL cluster when it is down (Debian's pg_ctlcluster, as root). */
export async function startPostgresIfDown(): Promise<void> {
  if (await answers(ADMIN_URL)) return;
  const versions = fs.existsSync('/etc/postgresql') ? fs.readdirSync('/etc/postgresql') : [];
  if (versions.length === 0) throw new Error(`PostgreSQL does not answer at ${ADMIN_URL} and no Debian cluster is installed to start.`);
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', versions[0]!, 'main', 'start'], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    if (await answers(ADMIN_URL)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`PostgreSQL did not come up at ${ADMIN_URL}.`);
}

export interface TestPostgresDatabase {
  url: string;
  /** Drop the database (closing what is still connected to it). */
  drop(): Promise<void>;
}

/** A fresh, migrated PostgreSQL database of its own for one test file. */
export async function createTestPostgresDatabase(options: { migrate?: boolean } = {}): Promise<TestPostgresDatabase> {
  await startPostgresIfDown();
  const name = `chorus_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  const url = u.toString();
  if (options.migrate !== false) await migratePostgres(url);
  return {
    url,
    drop: async () => {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}
