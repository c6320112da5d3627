import type { JobEventBody, JobMode } from '@chorus/api';
import { EngineError, type Engine, type EngineEvent, type EngineInput } from '../engine/engine.ts';
import type { JobRunIO, RunnableJob } from './job-run-io.ts';
import type { WorkerLogger } from './logger.ts';
import { ProgressThrottle } from './progress-throttle.ts';

type ProgressBody = Extract<JobEventBody, { type: 'progress' }>;

export interface RunJobDeps {
  logger: WorkerLogger;
  progressIntervalMs: number;
}

/** Why a run was stopped from outside: a user's cancel, a server shutdown, or the job is no longer this worker's (its lease was taken over). */
export type StopReason = 'cancel' | 'shutdown' | 'lease-lost';

export interface RunControl {
  signal: AbortSignal;
  stopReason: () => StopReason;
  /** A write was refused (the job is no longer running under this run's lease): stop the run. */
  onRefused: () => void;
}

/**
 * Run one claimed job (status already 'running') to its end: feed the engine, turn its
 * reports into stored events, store the WAV, and record exactly one terminal status.
 */
export async function runJob(deps: RunJobDeps, io: JobRunIO, job: RunnableJob, engine: Engine, control: RunControl): Promise<void> {
  const { signal, stopReason } = control;
  // Every write goes through io, fenced by the run's lease; a refusal stops the run.
  const accepted = (ok: boolean): void => {
    if (!ok) control.onRefused();
  };
  const append = async (bodies: JobEventBody[]): Promise<void> => accepted(await io.append(bodies));
  const stages = engine.info.stages;
  let currentStage = stages[0]?.name ?? 'run';
  let tail: Promise<unknown> = Promise.resolve();
  // Appends are chained per job inside JobEventLog; we keep the last promise to await it.
  // A failed write must not become an unhandled rejection (it would end the process).
  const record = (bodies: JobEventBody[]): void => {
    tail = append(bodies).catch((err: unknown) => {
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
    const input: EngineInput = {
      mode: job.mode as JobMode,
      text: job.text,
      prompt: await io.loadPrompt(),
      promptText: job.promptText ?? undefined,
      instruct: job.instruct ?? undefined,
      speakerId: job.speakerId ?? undefined,
      speed: job.speed,
    };
    const output = await engine.run(input, { seed: job.seed, signal, emit: onEngineEvent });
    if (signal.aborted) throw new EngineError('CANCELED', 'The job was canceled.');
    throttle.flush();
    await tail;
    accepted(await io.succeed(output, Date.now() - startedAt));
  } catch (err) {
    throttle.flush();
    await tail;
    const canceled = signal.aborted || (err instanceof EngineError && err.code === 'CANCELED');
    if (canceled && stopReason() === 'lease-lost') {
      // Another worker runs it now (or it ended): anything written here would be refused.
      deps.logger.warn({ jobId: job.id }, 'stopped a run whose job is no longer ours; nothing more is written for it');
    } else if (canceled && stopReason() === 'shutdown') {
      accepted(
        await io.giveBack([
          { type: 'log', level: 'warn', message: 'The server is shutting down; this job goes back to the queue and restarts from the beginning.' },
          { type: 'status', status: 'queued', reason: 'server shutdown' },
        ]),
      );
    } else if (canceled) {
      await append([
        { type: 'log', level: 'info', message: `Canceled during ${currentStage}.` },
        { type: 'status', status: 'canceled' },
      ]);
    } else {
      const e =
        err instanceof EngineError
          ? err
          : new EngineError('ENGINE_FAILED', `Unexpected engine failure: ${err instanceof Error ? err.message : String(err)}`, 'This is a bug in Chorus or the engine; an admin can see the log of this run.');
      const stage = e.stage ?? currentStage;
      await append([
        { type: 'log', level: 'error', message: `${stage} failed: ${e.message}` },
        { type: 'error', code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}), stage },
        { type: 'status', status: 'failed' },
      ]);
    }
  }
}
