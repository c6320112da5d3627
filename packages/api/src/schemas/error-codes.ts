import { z } from 'zod';

/**
 * Every code a failed (or canceled) job can carry, in one closed list: engines throw
 * EngineError with one of these, the worker stores it, the API and the UI read it back.
 * A new failure needs a new entry here (and in docs/engines.md), not a free string.
 * HTTP upload refusals have their own list (uploadErrorCodeSchema in upload.ts).
 */
export const JOB_ERROR_CODES = [
  // The request cannot be run as given (normally caught by job.create first).
  'MODE_UNSUPPORTED',
  'SPEAKER_REQUIRED',
  'UNKNOWN_SPEAKER',
  'INSTRUCT_REQUIRED',
  'PROMPT_REQUIRED',
  'PROMPT_TEXT_REQUIRED',
  'INVALID_SPEED',
  'TEXT_EMPTY',
  'TEXT_TOO_LONG',
  // The reference audio is missing or unusable.
  'PROMPT_MISSING',
  'PROMPT_SAMPLE_RATE',
  'PROMPT_TOO_SHORT',
  'PROMPT_TOO_LONG',
  'PROMPT_NO_SPEECH',
  'PROMPT_NO_VOICE',
  'PROMPT_FORMAT',
  // The engine or its runtime failed.
  'GPU_OOM',
  'ENGINE_UNAVAILABLE',
  'ENGINE_CLOSED',
  'ENGINE_TIMEOUT',
  'ENGINE_STALLED',
  'ENGINE_NO_AUDIO',
  'ENGINE_REJECTED',
  'ENGINE_BAD_RESPONSE',
  'ENGINE_CRASHED',
  'ENGINE_FAILED',
  // The job was stopped from outside.
  'CANCELED',
  'INTERRUPTED',
  // Catch-all: a stored code this version does not know (rows written by older versions).
  'INTERNAL',
] as const;

export const jobErrorCodeSchema = z.enum(JOB_ERROR_CODES, {
  error: (issue) => `Unknown error code ${JSON.stringify(issue.input)}; the codes are: ${JOB_ERROR_CODES.join(', ')}.`,
});
export type JobErrorCode = z.infer<typeof jobErrorCodeSchema>;

export interface JobErrorInfo {
  /** What the code means, in one line (admin review, docs, UI title). */
  description: string;
  /** What a user can do, shown when the failure itself brought no hint. */
  hint: string;
  /** A plain re-run of the same job may succeed (the cause is transient, not the input). */
  retryable: boolean;
}

export const JOB_ERROR_INFO: Record<JobErrorCode, JobErrorInfo> = {
  MODE_UNSUPPORTED: {
    description: 'The engine cannot run this synthesis mode.',
    hint: 'Choose another mode, or another engine for this mode.',
    retryable: false,
  },
  SPEAKER_REQUIRED: {
    description: 'Pretrained-speaker mode was asked for without a speaker.',
    hint: 'Pick one of the engine’s speakers.',
    retryable: false,
  },
  UNKNOWN_SPEAKER: {
    description: 'The chosen speaker does not exist on this engine.',
    hint: 'Pick one of the speakers the engine lists.',
    retryable: false,
  },
  INSTRUCT_REQUIRED: {
    description: 'Instruct mode was asked for without an instruction.',
    hint: 'Describe how to speak, e.g. "Speak slowly and warmly."',
    retryable: false,
  },
  PROMPT_REQUIRED: {
    description: 'The mode needs reference audio and none was given.',
    hint: 'Upload a 3–10 s recording of the voice to imitate.',
    retryable: false,
  },
  PROMPT_TEXT_REQUIRED: {
    description: 'Zero-shot cloning needs the transcript of the reference audio.',
    hint: 'Type exactly what the reference recording says.',
    retryable: false,
  },
  INVALID_SPEED: {
    description: 'The speed is outside the range the engine accepts.',
    hint: 'Use 1.0 for normal speed.',
    retryable: false,
  },
  TEXT_EMPTY: {
    description: 'The text has nothing to speak.',
    hint: 'Type the words to speak.',
    retryable: false,
  },
  TEXT_TOO_LONG: {
    description: 'The text is longer than the engine accepts.',
    hint: 'Split the text into several jobs.',
    retryable: false,
  },
  PROMPT_MISSING: {
    description: 'The reference audio upload no longer exists.',
    hint: 'Upload the reference audio again and submit a new job.',
    retryable: false,
  },
  PROMPT_SAMPLE_RATE: {
    description: 'The reference audio’s sample rate is too low for the model.',
    hint: 'Record or export the reference at 16 kHz or more and upload it again.',
    retryable: false,
  },
  PROMPT_TOO_SHORT: {
    description: 'The reference audio is too short.',
    hint: 'Use 3–10 s of clear speech from one speaker.',
    retryable: false,
  },
  PROMPT_TOO_LONG: {
    description: 'The reference audio is longer than the model accepts.',
    hint: 'Trim the reference to a clean 3–10 s clip and upload it again.',
    retryable: false,
  },
  PROMPT_NO_SPEECH: {
    description: 'Too little speech was found in the reference audio.',
    hint: 'Upload 3–10 s of one person speaking clearly, without long pauses or music.',
    retryable: false,
  },
  PROMPT_NO_VOICE: {
    description: 'No voiced speech was found in the reference audio.',
    hint: 'Whispered, very noisy or music-only references cannot be matched; upload normal speech.',
    retryable: false,
  },
  PROMPT_FORMAT: {
    description: 'The model did not find the <|endofprompt|> marker it requires.',
    hint: 'This is an engine configuration problem; ask an admin to check the engine’s model generation.',
    retryable: false,
  },
  GPU_OOM: {
    description: 'The GPU ran out of memory.',
    hint: 'Try again when other jobs on the GPU have finished, or use a shorter text.',
    retryable: true,
  },
  ENGINE_UNAVAILABLE: {
    description: 'The engine could not be reached or started.',
    hint: 'Try again later; if it persists, an admin should check the engine.',
    retryable: true,
  },
  ENGINE_CLOSED: {
    description: 'The engine was shut down before or while the job ran.',
    hint: 'Submit the job again once the service is back.',
    retryable: true,
  },
  ENGINE_TIMEOUT: {
    description: 'The engine took longer than its time limit.',
    hint: 'Try again, or try a shorter text.',
    retryable: true,
  },
  ENGINE_STALLED: {
    description: 'The engine stopped sending audio mid-job.',
    hint: 'The model may hang or the GPU be overloaded; try again later.',
    retryable: true,
  },
  ENGINE_NO_AUDIO: {
    description: 'The engine answered without any audio.',
    hint: 'Check the text has words to speak; if it does, an admin should check the engine’s log.',
    retryable: false,
  },
  ENGINE_REJECTED: {
    description: 'The engine’s runtime refused the request.',
    hint: 'Chorus and the runtime disagree about the request; an admin should check the engine’s version.',
    retryable: false,
  },
  ENGINE_BAD_RESPONSE: {
    description: 'The engine answered with something that is not usable audio.',
    hint: 'An admin should check that the engine points at the right model.',
    retryable: false,
  },
  ENGINE_CRASHED: {
    description: 'The engine’s process ended without a recognised cause.',
    hint: 'Try again; if it keeps failing, an admin can read the engine’s output in this job’s log.',
    retryable: true,
  },
  ENGINE_FAILED: {
    description: 'The engine failed with an error Chorus does not classify.',
    hint: 'Try again; if it keeps failing, an admin can read the log of this run.',
    retryable: true,
  },
  CANCELED: {
    description: 'The job was canceled.',
    hint: 'Submit it again if you still want the audio.',
    retryable: true,
  },
  INTERRUPTED: {
    description: 'The server stopped while the job ran, more than once.',
    hint: 'Re-run it; if it keeps failing, ask an admin to check the server logs.',
    retryable: true,
  },
  INTERNAL: {
    description: 'The job failed with a code this version of Chorus does not know.',
    hint: 'Re-run it; if it fails again, the new error will say more.',
    retryable: true,
  },
};

/** A stored code as the enum: codes from before the list existed (or since removed) become INTERNAL. */
export function toJobErrorCode(stored: string): JobErrorCode {
  const parsed = jobErrorCodeSchema.safeParse(stored);
  return parsed.success ? parsed.data : 'INTERNAL';
}
