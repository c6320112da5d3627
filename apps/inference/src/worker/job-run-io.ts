import type { JobEventBody } from '@chorus/api';
import type { Job } from '@chorus/db';
import type { EngineOutput, PromptAudio } from '../engine/engine.ts';

/** The job fields a run reads (what a standalone worker's claim returns, too). */
export type RunnableJob = Pick<Job, 'id' | 'mode' | 'text' | 'promptText' | 'instruct' | 'speakerId' | 'speed' | 'seed'>;

/**
 * Everything a run writes or reads besides the engine, for one claimed job under one lease:
 * the database and object store in the server (localRunIO), the worker API for a standalone
 * worker. Every write is fenced by the lease; `false` means it was refused (the job is no
 * longer this run's: canceled, or taken over) and the run must stop writing.
 */
export interface JobRunIO {
  /** Append events to the job's log (stage, progress, log, error, and the failed/canceled status). */
  append(bodies: JobEventBody[]): Promise<boolean>;
  /** Put the job back in the queue (shutdown): this start does not count as an attempt. */
  giveBack(bodies: JobEventBody[]): Promise<boolean>;
  /** The reference voice, or undefined for a mode without one; throws EngineError PROMPT_MISSING when it is gone. */
  loadPrompt(): Promise<PromptAudio | undefined>;
  /** Store the WAV and record the success: the Done line, the re-run comparison, the result and `succeeded`. */
  succeed(output: EngineOutput, wallMs: number): Promise<boolean>;
}

/** The Done log line of a successful run (the server writes the same for a standalone worker). */
export function doneMessage(durationMs: number, wallMs: number): string {
  return `Done: ${(durationMs / 1000).toFixed(2)} s of audio in ${(wallMs / 1000).toFixed(2)} s (real-time factor ${(wallMs / Math.max(1, durationMs)).toFixed(3)}).`;
}
