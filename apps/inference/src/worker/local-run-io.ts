import type { JobEventLog, JobLease } from '@chorus/api';
import type { Db, Job } from '@chorus/db';
import { EngineError } from '../engine/engine.ts';
import { doneMessage, type JobRunIO } from './job-run-io.ts';
import type { OutputStorer } from './output-store.ts';
import type { PromptLoader } from './prompt-loader.ts';
import { compareWithParent } from './rerun-comparison.ts';

export interface LocalRunDeps {
  db: Db;
  events: JobEventLog;
  /** Reads a job's reference voice from the object store. */
  loadPrompt: PromptLoader;
  /** Stores a job's WAV in the object store and says where. */
  storeOutput: OutputStorer;
}

/** A run inside the server: the database, the event log and the object store directly. */
export function localRunIO(deps: LocalRunDeps, job: Job, lease: JobLease): JobRunIO {
  const { db, events } = deps;
  const fenced = { expectStatus: ['running'] as const, lease };
  return {
    append: async (bodies) => (await events.append(job.id, bodies, fenced)) !== null,
    giveBack: async (bodies) =>
      (await events.append(job.id, bodies, { ...fenced, patch: { attempts: { increment: -1 }, leaseOwner: null, leaseExpiresAt: null, leaseEpoch: { increment: 1 } } })) !== null,
    loadPrompt: async () => {
      if (!job.promptUploadId) return undefined;
      const upload = await db.upload.findUnique({ where: { id: job.promptUploadId } });
      if (!upload) throw new EngineError('PROMPT_MISSING', `Reference audio upload ${job.promptUploadId} no longer exists.`, 'Upload the reference audio again and submit a new job.');
      return deps.loadPrompt(upload);
    },
    succeed: async (output, wallMs) => {
      const stored = await deps.storeOutput(job.id, lease.epoch, output.wav);
      const comparison = await compareWithParent(db, job, stored.sha256);
      const durationMs = Math.round(output.durationMs);
      const appended = await events.append(
        job.id,
        [
          { type: 'log', level: 'info', message: doneMessage(output.durationMs, wallMs) },
          ...(comparison ? [comparison] : []),
          { type: 'result', audioUrl: `/api/jobs/${encodeURIComponent(job.id)}/audio`, sampleRate: output.sampleRate, durationMs, sha256: stored.sha256 },
          { type: 'status', status: 'succeeded' },
        ],
        {
          ...fenced,
          patch: { outputPath: stored.relativePath, outputSampleRate: output.sampleRate, outputDurationMs: durationMs, outputSha256: stored.sha256, outputBytes: stored.bytes, progressPct: 100 },
        },
      );
      return appended !== null;
    },
  };
}
