import type { Upload } from '@chorus/db';

/** Size of the decoded copy: a 44-byte WAV header and 16-bit mono samples (durationMs is rounded). */
export function pcmCopyBytes(durationMs: number, sampleRate: number): number {
  return 44 + 2 * Math.round((durationMs * sampleRate) / 1000);
}

/** What an upload counts against its sender's quota: the original and the decoded copy the engines read. */
export function storedUploadBytes(row: Pick<Upload, 'sizeBytes' | 'durationMs' | 'sampleRate'>): number {
  return row.sizeBytes + pcmCopyBytes(row.durationMs, row.sampleRate);
}
