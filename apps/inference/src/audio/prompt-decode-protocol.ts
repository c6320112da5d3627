/** Messages between PromptDecodePool and its worker threads (structured-cloneable). */
import type { UploadErrorCode } from '@chorus/api/schemas';
import type { DecodeStats } from './decode-budget.ts';
import type { PromptLimits, ValidatedPromptAudio } from './prompt-validation.ts';

export interface DecodeRequest {
  id: number;
  /** Transferred: the worker owns this copy of the upload. */
  bytes: Uint8Array;
  limits: PromptLimits;
  maxDecodedBytes: number;
}

/** Console output of the decoder libraries inside the worker: swallowed and summarised. */
export interface SwallowedOutput {
  lines: number;
  /** The first line (shortened), to say what kind of noise it was. */
  first: string | null;
}

export interface PromptDecodeReport {
  stats: DecodeStats;
  decoderOutput: SwallowedOutput;
  /** Time the worker spent on the file, ms. */
  elapsedMs: number;
}

export type DecodeResponse =
  | { type: 'ready' }
  | { type: 'done'; id: number; result: ValidatedPromptAudio; report: PromptDecodeReport }
  | { type: 'refused'; id: number; error: { code: UploadErrorCode; message: string }; report: PromptDecodeReport };
