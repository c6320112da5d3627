import { createHash } from 'node:crypto';
import type { JobErrorCode } from '../schemas/error-codes.ts';
import type { JobEventBody } from '../schemas/job-event.ts';

/**
 * Rewrites applied in order: each replaces one kind of run-to-run variation with a
 * placeholder. Order matters: a traceback frame or URL holds paths and numbers, an id or
 * hash holds digits, so the specific shapes go before the general ones.
 */
const NORMALIZERS: ReadonlyArray<readonly [RegExp, string]> = [
  // Python 3.11+ caret lines under a frame (`    ^^^^^`): their width follows the source line.
  [/^[ \t]*[~^]+[ \t]*$/gm, ''],
  // A traceback frame: the file (any OS, may hold spaces) and line differ between installs and versions.
  [/File "[^"\n]*", line \d+/g, 'File <path>, line <n>'],
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>()]+/gi, '<url>'],
  // Windows paths: a drive letter (either slash) or a UNC share; a space ends them outside quotes.
  [/(?<![\w\\])(?:[A-Za-z]:[\\/]|\\\\[\w.$-]+\\)[^\s"'<>|*?:]*/g, '<path>'],
  // Chorus ids: a short lowercase prefix, "_", 26 Crockford base32 characters (ids.ts).
  [/\b([a-z]{2,8})_[0-9a-hjkmnp-tv-z]{26}\b/gi, '$1_<id>'],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>'],
  // POSIX paths: absolute, home- or dot-relative; not the tail of a word, a URL or a fraction ("it/s").
  [/(?<![\w./~\\])(?:~|\.{1,2})?\/(?:[\w.@+~-]+\/)*[\w.@+~-]+\/?/g, '<path>'],
  [/\b0x[0-9a-f]+\b/gi, '<hex>'],
  // Hashes (sha256 and prefixes): 8+ hex characters with a digit and a letter; all-digit runs are numbers.
  [/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/gi, '<hash>'],
  // Quoted text (user input, file names, Python reprs): an opening quote not inside a word, so "engine's" stays.
  [/(?<![\w])"[^"\n]*"(?![\w])/g, '<text>'],
  [/(?<![\w])'[^'\n]*'(?![\w])/g, '<text>'],
  [/“[^”\n]*”|‘[^’\n]*’/g, '<text>'],
  // Sizes before plain numbers, so "2.50 GiB" and "512 MiB" read the same.
  [/\b\d+(?:[.,]\d+)?\s?(?:[KMGTP]i?B|bytes?|B)\b/g, '<size>'],
  // A number starts a word but may carry a unit ("20ms", "3.1it/s"); digits inside a word ("CosyVoice3") stay.
  [/\b\d+(?:\.\d+)?(?:e[-+]?\d+)?/gi, '<n>'],
];

/**
 * A failure message with what differs between runs of the same cause taken out: numbers
 * and sizes, hex addresses, ids and hashes, file paths (also in Python traceback frames),
 * URLs and quoted text become placeholders, and whitespace is collapsed. Two runs that
 * failed for the same reason normalise to the same string.
 */
export function normalizeFailureMessage(message: string): string {
  let text = message;
  for (const [pattern, replacement] of NORMALIZERS) text = text.replace(pattern, replacement);
  return text.replace(/\s+/g, ' ').trim();
}

export interface FailureFingerprintInput {
  code: JobErrorCode;
  engineId: string;
  /** The stage the job failed in; null/undefined when it failed before any stage. */
  stage: string | null | undefined;
  message: string;
}

/**
 * A short, stable key for "the same failure": sha256 over the code, engine, stage and the
 * normalised message (first 16 hex characters), so failed runs can be grouped for review.
 */
export function failureFingerprint(input: FailureFingerprintInput): string {
  // JSON keeps the fields apart, so no two different tuples hash the same text.
  const key = JSON.stringify([input.code, input.engineId, input.stage ?? '', normalizeFailureMessage(input.message)]);
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/**
 * The stage a job failed in, read from its events in order: the error event's own stage,
 * else the stage it was in (its last stage or progress event since it last went back to the
 * queue); null when it failed before any stage. The same stage the fingerprint was made with.
 */
export function failedStageOf(events: readonly JobEventBody[]): string | null {
  let stage: string | null = null;
  let failedIn: string | null = null;
  for (const event of events) {
    if (event.type === 'status' && event.status === 'queued') stage = null;
    else if (event.type === 'stage') stage = event.name;
    else if (event.type === 'progress') stage = event.stage;
    else if (event.type === 'error') failedIn = event.stage ?? stage;
  }
  return failedIn ?? stage;
}
