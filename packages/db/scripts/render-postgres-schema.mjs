// One model definition, two providers: prisma/schema.prisma (SQLite) is the source; this
// writes the PostgreSQL rendering Prisma needs (it allows one provider per schema file).
// A line ending in `// postgresql: <attributes>` gets those native-type attributes there.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The PostgreSQL schema text for a SQLite schema text. */
export function renderPostgresSchema(source) {
  const out = source
    .replace(/provider\s*=\s*"sqlite"/, 'provider = "postgresql"')
    .replace(/output\s*=\s*"\.\.\/src\/generated\/prisma"/, 'output     = "../../src/generated/postgres"')
    .split('\n')
    .map((line) => {
      const m = /^(.*?)\s*\/\/\s*postgresql:\s*(.+)$/.exec(line);
      return m ? `${m[1]} ${m[2].trim()}` : line;
    })
    .join('\n');
  if (!out.includes('provider = "postgresql"') || !out.includes('generated/postgres')) {
    throw new Error('render-postgres-schema: the source schema no longer has the expected datasource/generator lines');
  }
  return `// GENERATED from ../schema.prisma by scripts/render-postgres-schema.mjs: edit the source, not this file.\n${out}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const from = process.argv[2] ?? path.join(root, 'prisma', 'schema.prisma');
  const to = process.argv[3] ?? path.join(root, 'prisma', 'postgres', 'schema.prisma');
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.writeFileSync(to, renderPostgresSchema(fs.readFileSync(from, 'utf8')));
}
