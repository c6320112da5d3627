import { z } from 'zod';

export const UPLOAD_FORMATS = ['wav', 'flac', 'mp3', 'ogg'] as const;
export const uploadFormatSchema = z.enum(UPLOAD_FORMATS);
export type UploadFormat = z.infer<typeof uploadFormatSchema>;

export const uploadWarningSchema = z.object({
  code: z.enum(['CLIPPING', 'LOW_LEVEL', 'LEADING_SILENCE', 'TRAILING_SILENCE', 'LOW_SAMPLE_RATE']),
  message: z.string(),
});
export type UploadWarning = z.infer<typeof uploadWarningSchema>;

/** POST /api/uploads response. */
export const uploadResultSchema = z.object({
  id: z.string(),
  sha256: z.string(),
  format: uploadFormatSchema,
  sampleRate: z.number().int(),
  channels: z.number().int(),
  durationMs: z.number().int(),
  warnings: z.array(uploadWarningSchema),
});
export type UploadResult = z.infer<typeof uploadResultSchema>;

/**
 * Why POST /api/uploads refused a file: the one list of upload codes (HTTP only; a job's
 * failures use JOB_ERROR_CODES in error-codes.ts).
 */
export const UPLOAD_ERROR_CODES = [
  'EMPTY_FILE',
  'UNSUPPORTED_FORMAT',
  'UNDECODABLE',
  'TOO_LARGE',
  'TOO_SHORT',
  'TOO_LONG',
  'SAMPLE_RATE_TOO_LOW',
  'SILENT',
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'RATE_LIMITED',
  'QUOTA_EXCEEDED',
] as const;
export const uploadErrorCodeSchema = z.enum(UPLOAD_ERROR_CODES);
export type UploadErrorCode = z.infer<typeof uploadErrorCodeSchema>;

/** Error body for failed uploads: a stable code and a message that says what is accepted. */
export const uploadErrorSchema = z.object({
  error: z.object({
    code: uploadErrorCodeSchema,
    message: z.string(),
  }),
});
export type UploadError = z.infer<typeof uploadErrorSchema>;
