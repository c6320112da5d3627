import type { JobEventLog } from '@chorus/api';
import type { Db } from '@chorus/db';
import type { WorkerLogger } from './logger.ts';

/** A job may be restarted once after the process running it died; the second death fails it. */
const MAX_STARTS = 2;

/**
 * At start-up, a job still marked 'running' was interrupted by a crash or kill: re-queue
 * it once with a warning, or fail it with INTERRUPTED if it already was re-queued.
 * Queued jobs simply stay queued.
 */
export async function recoverInterruptedJobs(db: Db, events: JobEventLog, logger: WorkerLogger): Promise<void> {
  const interrupted = await db.job.findMany({ where: { status: 'running' }, orderBy: { queuedAt: 'asc' } });
  for (const job of interrupted) {
    if (job.attempts < MAX_STARTS) {
      await events.append(
        job.id,
        [
          { type: 'log', level: 'warn', message: 'The server stopped while this job was running; it has been re-queued once and will start over.' },
          { type: 'status', status: 'queued', reason: 'recovered after restart' },
        ],
        { expectStatus: ['running'] },
      );
      logger.warn({ jobId: job.id }, 'recovery: re-queued interrupted job');
    } else {
      await events.append(
        job.id,
        [
          { type: 'log', level: 'error', message: 'The server stopped while this job was running, for the second time; it will not be retried.' },
          {
            type: 'error',
            code: 'INTERRUPTED',
            message: 'The job was interrupted twice by a server stop.',
            hint: 'Re-run it; if it keeps failing, ask an admin to check the server logs around these times.',
          },
          { type: 'status', status: 'failed' },
        ],
        { expectStatus: ['running'] },
      );
      logger.warn({ jobId: job.id }, 'recovery: interrupted twice, failed');
    }
  }
}
