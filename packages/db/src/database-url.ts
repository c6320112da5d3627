import path from 'node:path';

/** Default embedded database: a SQLite file under ./data relative to where Chorus starts. */
export const DEFAULT_DATABASE_URL = 'file:./data/chorus.db';

export type DatabaseProvider = 'sqlite' | 'postgresql';

/** Which database a URL names, or a clear error for anything else. */
export function databaseProvider(url: string): DatabaseProvider {
  if (url.startsWith('file:')) return 'sqlite';
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgresql';
  throw new Error(`DATABASE_URL must be a SQLite "file:" URL (the embedded default, e.g. file:./data/chorus.db) or a PostgreSQL URL (postgresql://user@host:5432/db); got "${url.split(':')[0]}:…".`);
}

/**
 * The configured database URL with relative SQLite paths made absolute against the
 * process's working directory, so the CLI (run from packages/db) and the server agree.
 * PostgreSQL URLs are returned as given.
 */
export function resolveDatabaseUrl(raw = process.env.DATABASE_URL, cwd = process.env.CHORUS_ROOT ?? process.cwd()): string {
  const url = raw && raw.trim() !== '' ? raw.trim() : DEFAULT_DATABASE_URL;
  if (databaseProvider(url) === 'postgresql') return url;
  const filePath = url.slice('file:'.length);
  return `file:${path.isAbsolute(filePath) ? filePath : path.resolve(cwd, filePath)}`;
}

export function sqliteFilePath(url: string): string {
  return url.slice('file:'.length);
}

/** The URL as it may appear in logs and errors: a password is replaced by ***. */
export function shownDatabaseUrl(url: string): string {
  if (databaseProvider(url) === 'sqlite') return url;
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgresql://(unparseable URL)';
  }
}
