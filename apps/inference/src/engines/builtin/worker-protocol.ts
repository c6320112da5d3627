import type { JobErrorCode } from '@chorus/api/schemas';
import { EngineError, type EngineEvent, type EngineInput, type EngineOutput } from '../../engine/engine.ts';

/** Messages between the engine (main thread) and a synthesis worker. */
export type ToWorker = { type: 'run'; id: number; input: EngineInput; seed: number };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'event'; id: number; event: EngineEvent }
  | { type: 'done'; id: number; output: EngineOutput }
  | { type: 'failed'; id: number; error: SerializedError };

export interface SerializedError {
  code: JobErrorCode;
  message: string;
  hint?: string;
  stage?: string;
}

/** EngineError does not survive structured cloning as a class; send its fields instead. */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof EngineError) return { code: err.code, message: err.message, hint: err.hint, stage: err.stage };
  return { code: 'ENGINE_FAILED', message: err instanceof Error ? err.message : String(err) };
}

export const deserializeError = (e: SerializedError): EngineError => new EngineError(e.code, e.message, e.hint, e.stage);
