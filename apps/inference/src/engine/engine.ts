import type { EngineInfo, JobErrorCode, JobMode, LogLevel } from '@chorus/api/schemas';

/** Mono prompt audio as engines receive it: float samples in [-1, 1] at the upload's own rate. */
export interface PromptAudio {
  samples: Float32Array;
  sampleRate: number;
}

/** What a job asks an engine to do; validated against EngineInfo before it reaches run(). */
export interface EngineInput {
  mode: JobMode;
  text: string;
  prompt?: PromptAudio;
  /** Transcript of the prompt audio (zero-shot). */
  promptText?: string;
  instruct?: string;
  speakerId?: string;
  /** 0.5–2.0, 1 = normal. */
  speed: number;
}

/**
 * Events an engine reports while it runs. The worker turns them into stored, sequenced
 * job events: it adds the stage index/count from EngineInfo.stages, the percent and the
 * job's seq/timestamp.
 */
export type EngineEvent =
  | { type: 'stage'; name: string }
  | { type: 'progress'; step: number; total: number; etaMs?: number | null }
  | { type: 'log'; level: LogLevel; message: string };

export type EngineEmit = (event: EngineEvent) => void;

export interface EngineRunContext {
  seed: number;
  signal: AbortSignal;
  emit: EngineEmit;
}

/** A finished take: a complete 16-bit mono WAV file and its measured properties. */
export interface EngineOutput {
  wav: Uint8Array;
  sampleRate: number;
  durationMs: number;
}

export interface Engine {
  readonly info: EngineInfo;
  /** Must reject with an AbortError (or EngineError code CANCELED) promptly once signal aborts. */
  run(input: EngineInput, ctx: EngineRunContext): Promise<EngineOutput>;
  /**
   * Check the engine can take work (e.g. its server answers). Resolves when it can; rejects
   * with an EngineError saying why not. Engines without a remote part omit it (always up).
   */
  probe?(signal: AbortSignal): Promise<void>;
  /** Release threads/processes the engine holds. */
  close?(): Promise<void>;
}

/** A failure with a stable code (from the closed JOB_ERROR_CODES list) and a hint a user can act on. */
export class EngineError extends Error {
  constructor(
    readonly code: JobErrorCode,
    message: string,
    readonly hint?: string,
    readonly stage?: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new EngineError('CANCELED', 'The job was canceled.');
}
