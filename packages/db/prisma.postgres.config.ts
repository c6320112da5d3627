// The PostgreSQL client is generated from prisma/postgres/schema.prisma (rendered from the one
// model definition in prisma/schema.prisma). Only `prisma generate` and `migrate diff` use this
// file: on PostgreSQL, migrations are applied by src/postgres-migrate.ts, because Prisma 6.19's
// WASM schema engine cannot read Postgres's `name` type (prisma/orm#27403).
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import { defineConfig } from 'prisma/config';

// generate and migrate diff connect to nothing, but the datasource needs a PostgreSQL URL to parse.
if (!/^postgres(ql)?:\/\//.test(process.env.DATABASE_URL ?? '')) process.env.DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';

export default defineConfig({
  engine: 'js',
  experimental: { adapter: true },
  schema: path.join('prisma', 'postgres', 'schema.prisma'),
  migrations: { path: path.join('prisma', 'postgres', 'migrations') },
  async adapter() {
    return new PrismaPg({ connectionString: process.env.DATABASE_URL });
  },
});
