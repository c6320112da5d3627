import type { ClaimedJob, JobEventBody, WorkerEventBody } from '@chorus/api';
import { MAX_APPEND_EVENTS } from '@chorus/api';
import { decodePromptWav, EngineError, type JobRunIO } from '@chorus/inference';
import { ServerRefusal, type ServerApi } from './server-api.ts';

interface Pending {
  bodies: WorkerEventBody[];
  resolve(accepted: boolean): void;
  reject(err: unknown): void;
}

/**
 * A run on this worker, written through the server's worker API under the claim's lease.
 * Appends go out one call at a time, in order (seq order is the order they were made), and
 * what piles up while a call is out goes in the next one, up to the API's limit per call.
 */
export function remoteRunIO(api: ServerApi, workerId: string, claimed: ClaimedJob): JobRunIO {
  const { job, lease } = claimed;
  const epoch = lease.epoch;
  const queue: Pending[] = [];
  let sending: Promise<void> | null = null;
  let refused = false;

  const sendAll = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch: Pending[] = [];
      let count = 0;
      while (queue.length > 0 && count + queue[0]!.bodies.length <= MAX_APPEND_EVENTS) {
        const next = queue.shift()!;
        batch.push(next);
        count += next.bodies.length;
        // A status ends a run: it is the last event of its call.
        if (next.bodies.some((b) => b.type === 'status')) break;
      }
      if (batch.length === 0) batch.push(queue.shift()!); // one append larger than a call: the server says so
      try {
        const accepted = refused ? false : (await api.trpc.workerApi.append.mutate({ workerId, jobId: job.id, epoch, events: batch.flatMap((p) => p.bodies) })).accepted;
        if (!accepted) refused = true;
        for (const p of batch) p.resolve(accepted);
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
  };

  const append = (bodies: JobEventBody[]): Promise<boolean> =>
    new Promise((resolve, reject) => {
      // The server's schema checks what a worker may write; `result` never comes from here.
      queue.push({ bodies: bodies as WorkerEventBody[], resolve, reject });
      sending ??= sendAll().finally(() => (sending = null));
    });

  return {
    append,
    // The server applies the give-back (attempts, lease) for a final `queued` status and enqueues it again.
    giveBack: append,
    loadPrompt: async () => {
      if (!job.prompt) return undefined;
      try {
        return decodePromptWav(await api.downloadPrompt(job.id));
      } catch (err) {
        if (err instanceof ServerRefusal && err.code === 'PROMPT_MISSING') throw new EngineError('PROMPT_MISSING', err.message, 'Upload the reference audio again and submit a new job.');
        throw err;
      }
    },
    succeed: async (output, wallMs) => {
      await sending;
      if (refused) return false;
      let stored;
      try {
        stored = await api.uploadOutput(job.id, epoch, output.wav);
      } catch (err) {
        if (err instanceof ServerRefusal && err.code === 'LEASE_LOST') return false;
        throw err;
      }
      return (await api.trpc.workerApi.complete.mutate({ workerId, jobId: job.id, epoch, sha256: stored.sha256, wallMs: Math.round(wallMs) })).accepted;
    },
  };
}
