/**
 * Another Chorus process writing to the same database (spawned by event-log-suite.ts):
 * appends `count` log events to one job, one append after the other (so its transactions
 * interleave with the parent's), and prints the seqs it got.
 */
import { openDb } from '@chorus/db';
import { JobEventLog } from '../../src/index.ts';
import { memoryBus } from './memory-bus.ts';

const [url, jobId, countText] = process.argv.slice(2);
if (!url || !jobId || !countText) throw new Error('usage: append-from-another-process.ts <database url> <job id> <count>');
const db = await openDb(url);
const log = new JobEventLog(db, memoryBus());
const seqs: number[] = [];
for (let i = 0; i < Number(countText); i++) {
  const events = await log.append(jobId, [{ type: 'log', level: 'info', message: `child ${i}` }]);
  seqs.push(...(events ?? []).map((e) => e.seq));
}
await log.close();
await db.$disconnect();
process.stdout.write(JSON.stringify(seqs));
