// Prisma 6.19 with the JS query engine and driver adapters: nothing is downloaded at
// install or run time (Prisma 7's CLI would fetch a schema-engine binary, which fails offline).
import fs from 'node:fs';
import path from 'node:path';
import { PrismaBetterSQLite3 } from '@prisma/adapter-better-sqlite3';
import { defineConfig } from 'prisma/config';
import { resolveDatabaseUrl, sqliteFilePath } from './src/database-url.ts';

// The schema's datasource reads DATABASE_URL; give the CLI the same resolved default the server uses.
process.env.DATABASE_URL = resolveDatabaseUrl();

export default defineConfig({
  engine: 'js',
  experimental: { adapter: true },
  schema: path.join('prisma', 'schema.prisma'),
  migrations: { path: path.join('prisma', 'migrations') },
  async adapter() {
    const url = resolveDatabaseUrl();
    // better-sqlite3 creates the file but not its folder (a fresh clone has no ./data).
    fs.mkdirSync(path.dirname(sqliteFilePath(url)), { recursive: true });
    return new PrismaBetterSQLite3({ url });
  },
});
