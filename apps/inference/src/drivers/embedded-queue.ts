import type { JobQueue } from '@chorus/api';
import type { Worker } from '../worker/worker.ts';

/**
 * Embedded queue: the Job table is the queue (status 'queued', FIFO by queuedAt) and the
 * worker runs in this process, so enqueueing is just waking it.
 */
export class EmbeddedQueue implements JobQueue {
  constructor(private readonly worker: Worker) {}

  async enqueue(_jobId: string): Promise<void> {
    this.worker.wake();
  }

  async abortRunning(jobId: string): Promise<void> {
    this.worker.abort(jobId);
  }
}
