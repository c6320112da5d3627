import path from 'node:path';

/** Default embedded database: a SQLite file under ./data relative to where Chorus starts. */
export const DEFAULT_DATABASE_URL = 'file:./data/chorus.db';

/**
 * The configured database URL with relative SQLite paths made absolute against the
 * process's working directory, so the CLI (run from packages/db) and the server agree.
 */
export function resolveDatabaseUrl(raw = process.env.DATABASE_URL, cwd = process.env.CHORUS_ROOT ?? process.cwd()): string {
  const url = raw && raw.trim() !== '' ? raw.trim() : DEFAULT_DATABASE_URL;
  if (!url.startsWith('file:')) {
    throw new Error(`DATABASE_URL must be a SQLite "file:" URL in the embedded build; got "${url.split(':')[0]}:…". PostgreSQL arrives with the scale-out drivers.`);
  }
  const filePath = url.slice('file:'.length);
  return `file:${path.isAbsolute(filePath) ? filePath : path.resolve(cwd, filePath)}`;
}

export function sqliteFilePath(url: string): string {
  return url.slice('file:'.length);
}
