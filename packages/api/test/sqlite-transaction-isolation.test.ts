import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateDatabase, openDb, type Db } from '@chorus/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/index.ts';

/**
 * better-sqlite3 has one connection; Prisma's adapter only serialises transactions against
 * each other, so a plain query issued while an interactive transaction waits would run inside
 * it (and vanish with its rollback). These tests prove the database layer keeps them apart.
 */
describe('SQLite: queries outside a transaction never run inside another one', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-tx-'));
  const url = `file:${path.join(dir, 'tx.db')}`;
  let db: Db;

  beforeAll(async () => {
    await migrateDatabase(url);
    db = await openDb(url);
  });
  afterAll(async () => {
    await db?.$disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const setting = (key: string) => db.setting.findUnique({ where: { key } });

  it('a write made while another request holds a transaction survives that transaction rolling back', async () => {
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    let proceed!: () => void;
    const release = new Promise<void>((r) => (proceed = r));

    const rolledBack = db
      .$transaction(async (tx) => {
        await tx.setting.create({ data: { key: 'inside', value: '"1"' } });
        entered();
        await release;
        throw new Error('roll back on purpose');
      })
      .catch((err: unknown) => err);

    await inside;
    // Another request writes while the transaction is open and waiting.
    // Prisma's promises are lazy: .then() sends the query now.
    const outside = db.setting.create({ data: { key: 'outside', value: '"2"' } }).then((row) => row);
    // Let the outside write run (if it can) before the transaction rolls back.
    await new Promise((r) => setTimeout(r, 50));
    proceed();
    expect(String(await rolledBack)).toContain('roll back on purpose');
    await outside;

    expect(await setting('inside')).toBeNull();
    expect((await setting('outside'))?.value).toBe('"2"');
  });

  it('a read outside a transaction never sees its uncommitted writes', async () => {
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    let proceed!: () => void;
    const release = new Promise<void>((r) => (proceed = r));
    const key = `uncommitted-${newId('job').slice(4)}`;

    const tx = db
      .$transaction(async (t) => {
        await t.setting.create({ data: { key, value: '"x"' } });
        entered();
        await release;
        throw new Error('roll back on purpose');
      })
      .catch(() => undefined);
    await inside;
    const read = setting(key).then((row) => row);
    await new Promise((r) => setTimeout(r, 50));
    proceed();
    await tx;
    expect(await read).toBeNull();
  });

  it('many plain queries and transactions interleaved all complete (no deadlock)', async () => {
    const work = Array.from({ length: 40 }, (_, i) =>
      i % 4 === 0
        ? db.$transaction(async (t) => {
            await t.setting.upsert({ where: { key: `k${i}` }, create: { key: `k${i}`, value: '"t"' }, update: { value: '"t"' } });
            await t.setting.findMany({ take: 1 });
          })
        : db.setting.upsert({ where: { key: `k${i}` }, create: { key: `k${i}`, value: '"p"' }, update: { value: '"p"' } }),
    );
    await Promise.all(work);
    expect(await db.setting.count({ where: { key: { startsWith: 'k' } } })).toBe(40);
  });
});
