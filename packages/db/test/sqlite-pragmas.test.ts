import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDb, sqliteSynchronous } from '../src/client.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

async function synchronousOf(setting: string | undefined): Promise<number> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-pragmas-'));
  dirs.push(dir);
  const before = process.env.CHORUS_SQLITE_SYNCHRONOUS;
  if (setting === undefined) delete process.env.CHORUS_SQLITE_SYNCHRONOUS;
  else process.env.CHORUS_SQLITE_SYNCHRONOUS = setting;
  try {
    const db = await openDb(`file:${path.join(dir, 'chorus.db')}`);
    try {
      const [row] = await db.$queryRawUnsafe<Array<{ synchronous: number | bigint }>>('PRAGMA synchronous');
      return Number(row!.synchronous);
    } finally {
      await db.$disconnect();
    }
  } finally {
    if (before === undefined) delete process.env.CHORUS_SQLITE_SYNCHRONOUS;
    else process.env.CHORUS_SQLITE_SYNCHRONOUS = before;
  }
}

describe('the SQLite file', () => {
  it('commits without an fsync each (synchronous=NORMAL, 1) by default, and with one (FULL, 2) when asked', async () => {
    expect(await synchronousOf(undefined)).toBe(1);
    expect(await synchronousOf('normal')).toBe(1);
    expect(await synchronousOf('FULL')).toBe(2);
  });

  it('refuses any other setting, saying what is accepted', () => {
    expect(() => sqliteSynchronous('off')).toThrow('CHORUS_SQLITE_SYNCHRONOUS must be "normal" (the default) or "full", got "off".');
  });
});
