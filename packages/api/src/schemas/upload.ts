import { z } from 'zod';
import { publicIdSchema, userIdSchema } from './auth.ts';
import { personRefSchema } from './job.ts';

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

export const uploadIdSchema = publicIdSchema('upl', 'Upload');

/** upload.list: a person's own reference audio; admins may list anyone's, or everyone's. */
export const listUploadsInputSchema = z.object({
  uploadedBy: z
    .union([z.literal('mine'), z.literal('everyone'), userIdSchema], { error: 'uploadedBy must be "mine", "everyone" or a user id (usr_…).' })
    .default('mine'),
  cursor: uploadIdSchema.nullish(),
  limit: z.number({ error: 'limit must be a whole number from 1 to 100.' }).int('limit must be a whole number from 1 to 100.').min(1, 'limit must be a whole number from 1 to 100.').max(100, 'limit must be a whole number from 1 to 100.').default(50),
});
export type ListUploadsInput = z.infer<typeof listUploadsInputSchema>;

/** One stored reference recording, as its owner (or an admin) sees it. */
export const uploadInfoSchema = z.object({
  id: z.string(),
  originalName: z.string().nullable(),
  format: uploadFormatSchema,
  sampleRate: z.number().int(),
  channels: z.number().int(),
  durationMs: z.number().int(),
  /** What it counts against the uploader's quota: the original and the decoded copy. */
  storedBytes: z.number().int(),
  createdAt: z.string(),
  uploadedBy: personRefSchema.nullable(),
  /** Jobs that use it as their reference voice (it cannot be deleted while there are any). */
  jobs: z.number().int(),
});
export type UploadInfo = z.infer<typeof uploadInfoSchema>;

export const deleteUploadInputSchema = z.object({ id: uploadIdSchema });
