import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateDatabase, openDb } from '@chorus/db';
import { eventLogSuite } from './support/event-log-suite.ts';

// The embedded default: a real SQLite file; a second openDb on it is a second connection (another process's).
eventLogSuite('a real SQLite file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-api-'));
  const url = `file:${path.join(dir, 'api.db')}`;
  await migrateDatabase(url);
  return {
    url,
    open: () => openDb(url),
    drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
});
