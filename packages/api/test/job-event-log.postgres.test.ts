import { openDb } from '@chorus/db';
import { createTestPostgresDatabase } from '@chorus/db/testing';
import { eventLogSuite } from './support/event-log-suite.ts';

// Scale-out: a fresh PostgreSQL database of this file's own (started when down, dropped afterwards).
eventLogSuite('PostgreSQL', async () => {
  const database = await createTestPostgresDatabase();
  return {
    url: database.url,
    open: () => openDb(database.url),
    drop: () => database.drop(),
  };
});
