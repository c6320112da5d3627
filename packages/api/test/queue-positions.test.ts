import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateDatabase, openDb, type Db } from '@chorus/db';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../src/ids.ts';
import { queuePositionOf, queuePositionsOf } from '../src/services/job-summary.ts';

/** A page's queue positions in two queries must equal the one-COUNT-per-job answer, ties and all. */
describe('queue positions of a history page, on a real SQLite file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-positions-'));
  const url = `file:${path.join(dir, 'q.db')}`;
  let db: Db;
  beforeAll(async () => {
    await migrateDatabase(url);
    db = await openDb(url);
  });
  afterAll(async () => {
    await db?.$disconnect();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('match the per-job count for random queues and random pages', async () => {
    const statuses = ['queued', 'queued', 'queued', 'running', 'succeeded'] as const;
    await fc.assert(
      fc.asyncProperty(
        // Each job: a status and a queuedAt from a few distinct instants (so ties on queuedAt happen).
        fc.array(fc.record({ status: fc.constantFrom(...statuses), at: fc.integer({ min: 0, max: 5 }) }), { minLength: 1, maxLength: 40 }),
        fc.infiniteStream(fc.boolean()),
        async (specs, pick) => {
          await db.job.deleteMany({});
          const base = Date.UTC(2026, 0, 1);
          const jobs = [];
          for (const spec of specs) {
            jobs.push(
              await db.job.create({
                data: { id: newId('job'), mode: 'pretrained', text: 't', seed: 1, engineId: 'builtin', engineVersion: '1', status: spec.status, queuedAt: new Date(base + spec.at * 1000) },
              }),
            );
          }
          const page = jobs.filter(() => pick.next().value);
          const positions = await queuePositionsOf(db, page);
          for (const job of page) expect(positions.get(job.id) ?? null, job.id).toBe(await queuePositionOf(db, job));
        },
      ),
      { numRuns: 60 },
    );
  });
});
