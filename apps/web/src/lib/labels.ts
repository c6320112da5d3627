import { JOB_ERROR_INFO, type JobErrorCode, type JobMode, type JobStatus, type JobSummary, type UploadWarning } from '@chorus/api/schemas';

/** Human names and one-line explanations for the synthesis modes. */
export const MODE_INFO: Record<JobMode, { label: string; description: string }> = {
  zero_shot: {
    label: 'Zero-shot clone',
    description: 'Clone the reference voice; you give the transcript of what the reference says.',
  },
  cross_lingual: {
    label: 'Cross-lingual clone',
    description: 'Clone the reference voice speaking another language; no transcript needed.',
  },
  instruct: {
    label: 'Instructed clone',
    description: 'Clone the reference voice and steer the delivery with a style instruction.',
  },
  pretrained: {
    label: 'Pretrained speaker',
    description: "Use one of the engine's built-in voices; no reference audio needed.",
  },
};

export const STATUS_LABEL: Record<JobStatus, string> = {
  queued: 'Queued',
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  canceled: 'Canceled',
};

export const WARNING_LABEL: Record<UploadWarning['code'], string> = {
  CLIPPING: 'Clipping',
  LOW_LEVEL: 'Quiet',
  LEADING_SILENCE: 'Leading silence',
  TRAILING_SILENCE: 'Trailing silence',
  LOW_SAMPLE_RATE: 'Low sample rate',
};

/** Which inputs each mode uses; mirrors the server's per-mode rules. */
export const MODE_FIELDS: Record<JobMode, { reference: boolean; transcript: boolean; instruct: boolean; speaker: boolean }> = {
  zero_shot: { reference: true, transcript: true, instruct: false, speaker: false },
  cross_lingual: { reference: true, transcript: false, instruct: false, speaker: false },
  instruct: { reference: true, transcript: false, instruct: true, speaker: false },
  pretrained: { reference: false, transcript: false, instruct: false, speaker: true },
};

/**
 * How a job's error code is shown: its one-line meaning from the shared code list, and the
 * hint to show when the failure brought none of its own (the job's own hint is more precise).
 */
export function jobErrorText(code: JobErrorCode, ownHint: string | null): { label: string; hint: string } {
  const info = JOB_ERROR_INFO[code];
  return { label: info.description, hint: ownHint ?? info.hint };
}

/** How a job came from another one. */
export const PARENT_RELATION_LABEL: Record<NonNullable<JobSummary['parentRelation']>, string> = {
  rerun: 're-run',
  retry: 'retry',
};
