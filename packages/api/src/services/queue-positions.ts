import type { Db } from '@chorus/db';
import type { JobEventLog } from './job-event-log.ts';

/** Most waiting jobs told their new place in line at once (the rest learn it on job.get). */
const POSITION_UPDATES = 50;

/**
 * After a job leaves the queue (started or canceled), tell the jobs still waiting their new
 * 1-based position with a `status: queued` event.
 */
export async function announceQueuePositions(db: Db, events: JobEventLog): Promise<void> {
  const waiting = await db.job.findMany({
    where: { status: 'queued' },
    orderBy: [{ queuedAt: 'asc' }, { id: 'asc' }],
    take: POSITION_UPDATES,
    select: { id: true },
  });
  await Promise.all(
    waiting.map((w, i) => events.append(w.id, [{ type: 'status', status: 'queued', queuePosition: i + 1 }], { expectStatus: ['queued'] })),
  );
}
