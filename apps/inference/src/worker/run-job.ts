import type { JobEventBody, JobEventLog, JobMode } from '@chorus/api';
import type { Db, Job } from '@chorus/db';
import { EngineError, type Engine, type EngineEvent, type EngineInput } from '../engine/engine.ts';
import { storeJobOutput } from './output-store.ts';
import { compareWithParent } from './rerun-comparison.ts';
import { loadPromptAudio } from './prompt-loader.ts';
import type { WorkerLogger } from './logger.ts';
import { ProgressThrottle } from './progress-throttle.ts';

type ProgressBody = Extract<JobEventBody, { type: 'progress' }>;

export interface RunJobDeps {
  db: Db;
  logger: WorkerLogger;
  events: JobEventLog;
  dataDir: string;
  progressIntervalMs: number;
}

/** Why a run was stopped from outside: a user's cancel or a server shutdown. */
export type StopReason = 'cancel' | 'shutdown';

/**
 * Run one claimed job (status already 'running') to its end: feed the engine, turn its
 * reports into stored events, store the WAV, and record exactly one terminal status.
 */
export async function runJob(deps: RunJobDeps, job: Job, engine: Engine, signal: AbortSignal, stopReason: () => StopReason): Promise<void> {
  const { events } = deps;
  const stages = engine.info.stages;
  let currentStage = stages[0]?.name ?? 'run';
  let tail: Promise<unknown> = Promise.resolve();
  // Appends are chained per job inside JobEventLog; we keep the last promise to await it.
  // A failed write must not become an unhandled rejection (it would end the process).
  const record = (bodies: JobEventBody[]): void => {
    tail = events.append(job.id, bodies, { expectStatus: ['running'] }).catch((err: unknown) => {
      deps.logger.error({ err, jobId: job.id }, 'could not record a job event');
    });
  };
  const throttle = new ProgressThrottle<ProgressBody>(deps.progressIntervalMs, (p) => record([p]));

  const onEngineEvent = (event: EngineEvent): void => {
    if (event.type === 'progress') {
      const total = Math.max(1, event.total);
      const step = Math.min(Math.max(0, event.step), total);
      throttle.push({
        type: 'progress',
        stage: currentStage,
        step,
        total,
        percent: Math.round((step / total) * 1000) / 10,
        etaMs: event.etaMs == null ? null : Math.max(0, Math.round(event.etaMs)),
      });
      return;
    }
    throttle.flush();
    if (event.type === 'stage') {
      currentStage = event.name;
      const index = stages.findIndex((s) => s.name === event.name);
      record([
        {
          type: 'stage',
          name: event.name,
          label: stages[index]?.label,
          index: Math.max(0, index),
          count: Math.max(1, stages.length),
        },
      ]);
    } else {
      record([{ type: 'log', level: event.level, message: event.message }]);
    }
  };

  const startedAt = Date.now();
  try {
    const upload = job.promptUploadId ? await deps.db.upload.findUnique({ where: { id: job.promptUploadId } }) : null;
    if (job.promptUploadId && !upload) {
      throw new EngineError('PROMPT_MISSING', `Reference audio upload ${job.promptUploadId} no longer exists.`, 'Upload the reference audio again and submit a new job.');
    }
    const input: EngineInput = {
      mode: job.mode as JobMode,
      text: job.text,
      prompt: upload ? await loadPromptAudio(deps.dataDir, upload) : undefined,
      promptText: job.promptText ?? undefined,
      instruct: job.instruct ?? undefined,
      speakerId: job.speakerId ?? undefined,
      speed: job.speed,
    };
    const output = await engine.run(input, { seed: job.seed, signal, emit: onEngineEvent });
    if (signal.aborted) throw new EngineError('CANCELED', 'The job was canceled.');
    throttle.flush();
    const stored = await storeJobOutput(deps.dataDir, job.id, output.wav);
    const wallMs = Date.now() - startedAt;
    const comparison = await compareWithParent(deps.db, job, stored.sha256);
    await tail;
    await events.append(
      job.id,
      [
        {
          type: 'log',
          level: 'info',
          message: `Done: ${(output.durationMs / 1000).toFixed(2)} s of audio in ${(wallMs / 1000).toFixed(2)} s (real-time factor ${(wallMs / Math.max(1, output.durationMs)).toFixed(3)}).`,
        },
        ...(comparison ? [comparison] : []),
        {
          type: 'result',
          audioUrl: `/api/jobs/${encodeURIComponent(job.id)}/audio`,
          sampleRate: output.sampleRate,
          durationMs: Math.round(output.durationMs),
          sha256: stored.sha256,
        },
        { type: 'status', status: 'succeeded' },
      ],
      {
        expectStatus: ['running'],
        patch: {
          outputPath: stored.relativePath,
          outputSampleRate: output.sampleRate,
          outputDurationMs: Math.round(output.durationMs),
          outputSha256: stored.sha256,
          outputBytes: stored.bytes,
          progressPct: 100,
        },
      },
    );
  } catch (err) {
    throttle.flush();
    await tail;
    const canceled = signal.aborted || (err instanceof EngineError && err.code === 'CANCELED');
    if (canceled && stopReason() === 'shutdown') {
      await events.append(
        job.id,
        [
          { type: 'log', level: 'warn', message: 'The server is shutting down; this job goes back to the queue and restarts from the beginning.' },
          { type: 'status', status: 'queued', reason: 'server shutdown' },
        ],
        { expectStatus: ['running'], patch: { attempts: { decrement: 1 } } },
      );
    } else if (canceled) {
      await events.append(
        job.id,
        [
          { type: 'log', level: 'info', message: `Canceled during ${currentStage}.` },
          { type: 'status', status: 'canceled' },
        ],
        { expectStatus: ['running'] },
      );
    } else {
      const e =
        err instanceof EngineError
          ? err
          : new EngineError('ENGINE_FAILED', `Unexpected engine failure: ${err instanceof Error ? err.message : String(err)}`, 'This is a bug in Chorus or the engine; an admin can see the log of this run.');
      const stage = e.stage ?? currentStage;
      await events.append(
        job.id,
        [
          { type: 'log', level: 'error', message: `${stage} failed: ${e.message}` },
          { type: 'error', code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}), stage },
          { type: 'status', status: 'failed' },
        ],
        { expectStatus: ['running'] },
      );
    }
  }
}
