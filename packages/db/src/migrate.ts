import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { databaseProvider, resolveDatabaseUrl } from './database-url.ts';
import { migratePostgres } from './postgres-migrate.ts';

const run = promisify(execFile);
const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Apply committed migrations before the app touches the DB. SQLite: `prisma migrate deploy`
 * (Prisma's own bookkeeping; with the js engine and the adapter in prisma.config.ts it needs
 * no download). PostgreSQL: our runner over the committed SQL (postgres-migrate.ts says why).
 */
export async function migrateDatabase(rawUrl?: string): Promise<void> {
  const url = resolveDatabaseUrl(rawUrl);
  if (databaseProvider(url) === 'postgresql') {
    await migratePostgres(url);
    return;
  }
  const cli = createRequire(import.meta.url).resolve('prisma/build/index.js');
  try {
    await run(process.execPath, [cli, 'migrate', 'deploy'], {
      cwd: packageRoot,
      env: { ...process.env, DATABASE_URL: url, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
      timeout: 120_000,
    });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`Database migration failed for ${url}: ${(e.stderr || e.stdout || e.message).trim()}`);
  }
}
