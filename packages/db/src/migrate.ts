import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { resolveDatabaseUrl } from './database-url.ts';

const run = promisify(execFile);
const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Apply committed migrations (`prisma migrate deploy`) before the app touches the DB.
 * Uses the CLI so Chorus relies on Prisma's own migration bookkeeping; with the js
 * engine and the adapter in prisma.config.ts it needs no download.
 */
export async function migrateDatabase(rawUrl?: string): Promise<void> {
  const url = resolveDatabaseUrl(rawUrl);
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
