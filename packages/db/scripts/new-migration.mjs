// Write the SQLite and the PostgreSQL migration for what changed in prisma/schema.prisma since
// the last commit, from the one model definition: `pnpm --filter @chorus/db migration:new <name>`.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderPostgresSchema } from './render-postgres-schema.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error('usage: migration:new <name> (lower-case letters, digits and _)');
  process.exit(2);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-migration-'));
const previous = execFileSync('git', ['show', 'HEAD:packages/db/prisma/schema.prisma'], { cwd: root, encoding: 'utf8' });
const current = fs.readFileSync(path.join(root, 'prisma', 'schema.prisma'), 'utf8');
const files = {
  sqliteFrom: [previous, 'prev.prisma'],
  sqliteTo: [current, 'next.prisma'],
  pgFrom: [renderPostgresSchema(previous), 'prev-pg.prisma'],
  pgTo: [renderPostgresSchema(current), 'next-pg.prisma'],
};
const at = {};
for (const [key, [text, file]] of Object.entries(files)) fs.writeFileSync((at[key] = path.join(tmp, file)), text);
const prisma = path.join(root, 'node_modules', '.bin', 'prisma');
const diff = (config, from, to) =>
  execFileSync(prisma, ['migrate', 'diff', '--config', config, '--from-schema-datamodel', from, '--to-schema-datamodel', to, '--script'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: `file:${path.join(tmp, 'x.db')}`, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
  });
// Prisma writes JSON column defaults unquoted for SQLite ([] and {}), which SQLite refuses.
const sqlite = diff('prisma.config.ts', at.sqliteFrom, at.sqliteTo).replace(/DEFAULT (\[\]|\{\})/g, "DEFAULT '$1'");
const postgres = diff('prisma.postgres.config.ts', at.pgFrom, at.pgTo);
if (!/\b(CREATE|ALTER|DROP)\b/.test(sqlite + postgres)) {
  console.log('prisma/schema.prisma has no change since the last commit: nothing to write.');
  process.exit(0);
}
const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
for (const [dir, sql] of [[path.join(root, 'prisma', 'migrations'), sqlite], [path.join(root, 'prisma', 'postgres', 'migrations'), postgres]]) {
  const target = path.join(dir, `${stamp}_${name}`);
  fs.mkdirSync(target, { recursive: true });
  fs.writeFileSync(path.join(target, 'migration.sql'), sql);
  console.log(`wrote ${path.relative(root, target)}/migration.sql`);
}
fs.rmSync(tmp, { recursive: true, force: true });
