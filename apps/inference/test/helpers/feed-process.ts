/**
 * A worker process for the stalled-job test (bullmq-queue-feed.test.ts): a BullmqJobFeed on
 * one engine whose handler claims the job in the database as the real worker does, prints
 * what it did, and then never returns, until the test kills this process with SIGKILL.
 */
import { JobEventLog } from '@chorus/api';
import { openDb } from '@chorus/db';
import { BullmqJobFeed } from '../../src/drivers/bullmq-job-feed.ts';
import { InProcessEventBus } from '../../src/drivers/in-process-bus.ts';

const [redisUrl, prefix, databaseUrl, engineId, lockText, stalledText] = process.argv.slice(2);
if (!redisUrl || !prefix || !databaseUrl || !engineId || !lockText || !stalledText) {
  throw new Error('usage: feed-process.ts <redis url> <prefix> <database url> <engine id> <lock ms> <stalled check ms>');
}
const db = await openDb(databaseUrl);
const events = new JobEventLog(db, new InProcessEventBus());
const quiet = { info: () => undefined, warn: () => undefined, error: (obj: object, msg?: string) => process.stderr.write(`${msg} ${JSON.stringify(obj)}\n`) };
const feed = new BullmqJobFeed({ url: redisUrl, prefix, logger: quiet, lockDurationMs: Number(lockText), stalledIntervalMs: Number(stalledText) });
await feed.start([{ id: engineId, concurrency: 1 }], async (jobId) => {
  const claimed = await events.append(jobId, [{ type: 'status', status: 'running' }], { expectStatus: ['queued'] });
  process.stdout.write(`${claimed ? 'claimed' : 'refused'} ${jobId}\n`);
  await new Promise<never>(() => undefined);
});
process.stdout.write('ready\n');
