import type { JobErrorCode } from '@chorus/api/schemas';
import { EngineError } from '../../engine/engine.ts';

interface KnownFailure {
  code: JobErrorCode;
  pattern: RegExp;
  message: (match: RegExpMatchArray) => string;
  hint: string;
}

/**
 * Failures CosyVoice reports in its own words (its asserts, torch's CUDA errors), turned
 * into stable codes with hints a user can act on. Shared by every CosyVoice adapter: the
 * spawned command's stderr, an HTTP runtime's error body, Triton's error message.
 */
const KNOWN_FAILURES: KnownFailure[] = [
  {
    code: 'GPU_OOM',
    pattern: /CUDA out of memory|OutOfMemoryError|CUBLAS_STATUS_ALLOC_FAILED|out of memory on device/i,
    message: () => 'The GPU ran out of memory.',
    hint: 'Try a shorter text or wait until other jobs on this GPU finish; if it keeps happening, an admin should lower this engine’s concurrency.',
  },
  {
    code: 'PROMPT_SAMPLE_RATE',
    // CosyVoice also loads the prompt at 24 kHz for its features, so the number it names can
    // be 24000; the real floor for the prompt is 16 kHz.
    pattern: /wav sample rate (\d+) must be greater than (\d+)/,
    message: (m) => `The reference audio is ${m[1]} Hz; CosyVoice needs at least 16000 Hz.`,
    hint: 'Record or export the reference voice at 16 kHz or more (44.1/48 kHz is ideal) and upload it again.',
  },
  {
    code: 'PROMPT_TOO_LONG',
    pattern: /do not support extract speech token for audio longer than (\d+)s/,
    message: (m) => `The reference audio is longer than the model’s ${m[1]} s limit.`,
    hint: 'Trim the reference voice to a clean 3–10 s clip and upload it again.',
  },
  {
    code: 'PROMPT_FORMAT',
    pattern: /<\|endofprompt\|> not detected/,
    message: () => 'The model did not find the <|endofprompt|> marker it requires in the prompt text or instruction.',
    hint: 'This is a configuration problem of the engine (CosyVoice3 needs the marker); ask an admin to check the engine’s model generation setting.',
  },
];

export interface ClassifiedFailure {
  code: JobErrorCode;
  message: string;
  hint: string;
}

/** The first known failure found in `text` (a traceback, stderr tail, or error body), or null. */
export function classifyCosyVoiceFailure(text: string): ClassifiedFailure | null {
  for (const failure of KNOWN_FAILURES) {
    const match = text.match(failure.pattern);
    if (match) return { code: failure.code, message: failure.message(match), hint: failure.hint };
  }
  return null;
}

/** An EngineError for a known failure, or the given fallback code with its hint. */
export function cosyVoiceError(text: string, fallback: ClassifiedFailure, stage?: string): EngineError {
  const known = classifyCosyVoiceFailure(text) ?? fallback;
  return new EngineError(known.code, known.message, known.hint, stage);
}
