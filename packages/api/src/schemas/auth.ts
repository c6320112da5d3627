import { z } from 'zod';
import { jobIdSchema, jobStatusSchema, JOB_ID_RULE, wellFormedText } from './common.ts';
import { jobErrorCodeSchema } from './error-codes.ts';
import { jobSummarySchema, personRefSchema } from './job.ts';

export const ROLES = ['admin', 'member', 'viewer'] as const;
export const roleSchema = z.enum(ROLES, { error: `Role must be one of: ${ROLES.join(', ')}.` });
export type Role = z.infer<typeof roleSchema>;

/** Higher rank includes everything a lower one may do. */
export const ROLE_RANK: Record<Role, number> = { viewer: 1, member: 2, admin: 3 };

export const PASSWORD_MIN = 10;
export const PASSWORD_MAX = 200;
export const PASSWORD_RULE = `A password has ${PASSWORD_MIN} to ${PASSWORD_MAX} characters.`;
export const passwordSchema = wellFormedText('Password', PASSWORD_MAX)
  .refine((p) => [...p].length >= PASSWORD_MIN, { message: `Password is too short. ${PASSWORD_RULE}` })
  .refine((p) => [...p].length <= PASSWORD_MAX, { message: `Password is too long. ${PASSWORD_RULE}` });

export const emailSchema = wellFormedText('Email', 254)
  .transform((e) => e.trim().toLowerCase())
  .refine((e) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(e), { message: 'Email must look like name@example.com.' });

export const personNameSchema = wellFormedText('Name', 100)
  .transform((n) => n.trim())
  .refine((n) => n.length > 0, { message: 'Name is required.' });

/** The random secret from a setup link, invite link or token: base64url, bounded. */
const secretSchema = (what: string) =>
  z
    .string({ error: `${what} is required.` })
    .max(200, `${what} is not valid.`)
    .refine((s) => /^[A-Za-z0-9_-]+$/.test(s), { message: `${what} is not valid.` });

export const setupInputSchema = z.object({
  setupToken: secretSchema('Setup token'),
  email: emailSchema,
  name: personNameSchema,
  password: passwordSchema,
});

export const loginInputSchema = z.object({
  email: wellFormedText('Email', 254).transform((e) => e.trim().toLowerCase()),
  password: wellFormedText('Password', PASSWORD_MAX),
});

/** The signed-in person's password, asked again before a sensitive change. */
export const currentPasswordSchema = wellFormedText('Current password', PASSWORD_MAX);

export const changePasswordInputSchema = z.object({
  currentPassword: currentPasswordSchema,
  newPassword: passwordSchema,
});

export const publicIdSchema = (prefix: string, what: string) =>
  z
    .string({ error: `${what} id is required.` })
    .refine((s) => new RegExp(`^${prefix}_[0-9a-z]{26}$`).test(s), {
      message: `${what} id must be "${prefix}_" followed by 26 lower-case letters and digits.`,
    });
export const userIdSchema = publicIdSchema('usr', 'User');
export const sessionIdSchema = publicIdSchema('ses', 'Session');
export const tokenIdSchema = publicIdSchema('tok', 'Token');
export const inviteIdSchema = publicIdSchema('inv', 'Invite');

export const INVITE_MAX_DAYS = 30;
export const createInviteInputSchema = z.object({
  role: roleSchema,
  email: emailSchema.optional(),
  expiresInHours: z
    .number({ error: `expiresInHours must be a number of hours from 1 to ${INVITE_MAX_DAYS * 24}.` })
    .int(`expiresInHours must be a whole number of hours from 1 to ${INVITE_MAX_DAYS * 24}.`)
    .min(1, `expiresInHours must be from 1 to ${INVITE_MAX_DAYS * 24}.`)
    .max(INVITE_MAX_DAYS * 24, `expiresInHours must be from 1 to ${INVITE_MAX_DAYS * 24}.`)
    .default(72),
});

export const acceptInviteInputSchema = z.object({
  inviteToken: secretSchema('Invite token'),
  email: emailSchema,
  name: personNameSchema,
  password: passwordSchema,
});
export const inviteTokenInputSchema = z.object({ inviteToken: secretSchema('Invite token') });

export const setRoleInputSchema = z.object({ userId: userIdSchema, role: roleSchema });
export const userRefInputSchema = z.object({ userId: userIdSchema });

export const TOKEN_MAX_DAYS = 3650;
export const createTokenInputSchema = z.object({
  name: personNameSchema,
  /** A token outlives the session: a stolen session must not mint one without the password. */
  currentPassword: currentPasswordSchema,
  expiresInDays: z
    .number({ error: `expiresInDays must be a number of days from 1 to ${TOKEN_MAX_DAYS}.` })
    .int(`expiresInDays must be a whole number of days from 1 to ${TOKEN_MAX_DAYS}.`)
    .min(1, `expiresInDays must be from 1 to ${TOKEN_MAX_DAYS}.`)
    .max(TOKEN_MAX_DAYS, `expiresInDays must be from 1 to ${TOKEN_MAX_DAYS}.`)
    .optional(),
});

/** Who is signed in, as every app sees it. */
export const authUserSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: roleSchema,
});
export type AuthUser = z.infer<typeof authUserSchema>;

export const memberSchema = authUserSchema.extend({
  active: z.boolean(),
  createdAt: z.string(),
  deactivatedAt: z.string().nullable(),
});
export type Member = z.infer<typeof memberSchema>;

export const sessionInfoSchema = z.object({
  id: z.string(),
  createdAt: z.string(),
  lastSeenAt: z.string(),
  expiresAt: z.string(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  current: z.boolean(),
});
export type SessionInfo = z.infer<typeof sessionInfoSchema>;

export const tokenInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type TokenInfo = z.infer<typeof tokenInfoSchema>;

export const inviteInfoSchema = z.object({
  id: z.string(),
  role: roleSchema,
  email: z.string().nullable(),
  createdAt: z.string(),
  expiresAt: z.string(),
  usedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  createdBy: z.string(),
});
export type InviteInfo = z.infer<typeof inviteInfoSchema>;

export const AUDIT_ACTIONS = [
  'setup.admin_created',
  'auth.login',
  'auth.login_failed',
  'auth.logout',
  'auth.password_changed',
  'session.revoked',
  'invite.created',
  'invite.revoked',
  'invite.accepted',
  'member.role_changed',
  'member.deactivated',
  'member.reactivated',
  'token.created',
  'token.revoked',
  'job.canceled_by_admin',
  'job.deleted',
  'job.retried',
  'failures.resolved',
  'failures.ignored',
  'failures.reopened',
  'settings.changed',
  'retention.deleted',
  'upload.deleted',
  'worker_token.created',
  'worker_token.revoked',
] as const;
export const auditActionSchema = z.enum(AUDIT_ACTIONS, { error: `Unknown action; known actions: ${AUDIT_ACTIONS.join(', ')}.` });
export type AuditAction = z.infer<typeof auditActionSchema>;

export const auditEntrySchema = z.object({
  id: z.number().int(),
  at: z.string(),
  actorId: z.string().nullable(),
  actorEmail: z.string().nullable(),
  action: auditActionSchema,
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()),
  ip: z.string().nullable(),
});
export type AuditEntryInfo = z.infer<typeof auditEntrySchema>;

export const listAuditInputSchema = z.object({
  cursor: z.number().int().positive().nullish(),
  limit: z.number().int().min(1, 'limit must be 1–200.').max(200, 'limit must be 1–200.').default(50),
  action: auditActionSchema.optional(),
  actorId: userIdSchema.optional(),
});

/** What each workspace setting accepts; 0 means "no limit" / "keep forever". */
export const SETTING_LIMITS = {
  jobsPerMinute: { max: 100_000, unit: 'jobs per minute per person' },
  uploadsPerHour: { max: 100_000, unit: 'uploads per hour per person' },
  // 1 TiB: far above any reference-audio quota, and exact in a JavaScript number.
  uploadBytesPerMember: { max: 1024 ** 4, unit: 'bytes of stored uploads per person' },
  retentionDays: { max: 36_500, unit: 'days' },
} as const;
export type SettingKey = keyof typeof SETTING_LIMITS;

/** A whole number from 0 to the setting's maximum, with a message that says so for every kind of wrong value. */
const settingSchema = (key: SettingKey) => {
  const { max, unit } = SETTING_LIMITS[key];
  const rule = `${key} must be a whole number from 0 to ${max} (${unit}; 0 = ${key === 'retentionDays' ? 'keep jobs forever' : 'no limit'}).`;
  return z.number({ error: rule }).int(rule).min(0, rule).max(max, rule);
};

/** Per-user limits and retention an admin can set; 0 means "no limit" / "keep forever". */
export const workspaceSettingsSchema = z.object({
  jobsPerMinute: settingSchema('jobsPerMinute'),
  uploadsPerHour: settingSchema('uploadsPerHour'),
  uploadBytesPerMember: settingSchema('uploadBytesPerMember'),
  retentionDays: settingSchema('retentionDays'),
});
export type WorkspaceSettings = z.infer<typeof workspaceSettingsSchema>;
export const DEFAULT_SETTINGS: WorkspaceSettings = {
  jobsPerMinute: 30,
  uploadsPerHour: 60,
  uploadBytesPerMember: 500 * 1024 * 1024,
  retentionDays: 0,
};
const SETTING_KEYS = Object.keys(SETTING_LIMITS).join(', ');
/** Any subset of the settings; an unknown key is refused rather than silently dropped (a typo would look saved). */
export const updateSettingsInputSchema = z.strictObject(workspaceSettingsSchema.partial().shape, {
  error: (issue) =>
    issue.code === 'unrecognized_keys'
      ? `Unknown setting ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}; the settings are: ${SETTING_KEYS}.`
      : `Settings must be an object with any of: ${SETTING_KEYS}.`,
});

/** A name for "whose jobs" filters: every account that exists, deactivated ones marked, no email or role. */
export const personOptionSchema = personRefSchema.extend({ active: z.boolean() });
export type PersonOption = z.infer<typeof personOptionSchema>;

export const setupStatusSchema = z.object({
  /** False until the first admin exists: the UI shows the setup page. */
  ready: z.boolean(),
  user: authUserSchema.nullable(),
});

// ---- The admin's review of failed runs -------------------------------------------------

export const fingerprintSchema = z
  .string({ error: 'fingerprint is required.' })
  .refine((s) => /^[0-9a-f]{16}$/.test(s), { message: 'A failure group fingerprint is 16 hexadecimal characters.' });

export const FAILURE_STATES = ['open', 'resolved', 'ignored'] as const;
export const failureStateSchema = z.enum(FAILURE_STATES, { error: `State must be one of: ${FAILURE_STATES.join(', ')}.` });

export const failureGroupSchema = z.object({
  fingerprint: z.string(),
  code: jobErrorCodeSchema,
  engineId: z.string(),
  /** The stage the runs failed in (from the newest run's error event, else its last stage/progress event); null before any stage. */
  stage: z.string().nullable(),
  /** The newest run's message, as an example of the group. */
  message: z.string(),
  hint: z.string().nullable(),
  retryable: z.boolean(),
  count: z.number().int(),
  firstSeen: z.string(),
  lastSeen: z.string(),
  state: failureStateSchema,
  /** Resolved before, and failed again since: the group is open again. */
  reopened: z.boolean(),
  note: z.string().nullable(),
  resolvedAt: z.string().nullable(),
  members: z.array(z.object({ id: z.string(), name: z.string(), count: z.number().int() })),
  /** Failures per day, oldest first, for the last `days` days (today last). */
  perDay: z.array(z.number().int()),
  /** How the retries of this group's runs ended. */
  retries: z.object({ total: z.number().int(), succeeded: z.number().int(), failed: z.number().int(), pending: z.number().int() }),
});
export type FailureGroupInfo = z.infer<typeof failureGroupSchema>;

export const listFailureGroupsInputSchema = z.object({
  state: z.union([failureStateSchema, z.literal('all')]).default('open'),
  days: z.number().int().min(1, 'days must be 1–90.').max(90, 'days must be 1–90.').default(14),
});

export const failureRunsInputSchema = z.object({
  fingerprint: fingerprintSchema,
  limit: z.number().int().min(1, 'limit must be 1–100.').max(100, 'limit must be 1–100.').default(50),
});

export const RETRY_MAX = 100;
export const retryFailuresInputSchema = z
  .object({
    fingerprint: fingerprintSchema.optional(),
    jobIds: z
      .array(jobIdSchema, { error: `jobIds must be an array of 1 to ${RETRY_MAX} job ids. ${JOB_ID_RULE}` })
      .min(1, `jobIds must list 1 to ${RETRY_MAX} failed runs; it is empty.`)
      .max(RETRY_MAX, `jobIds must list 1 to ${RETRY_MAX} failed runs; retry a bigger selection in parts, or the whole group by its fingerprint.`)
      .optional(),
    seed: z.enum(['same', 'random'], { error: 'seed must be "same" or "random".' }).default('same'),
    /** Also retry runs whose earlier retry has finished (a run with a retry still queued or running is never retried twice). */
    again: z.boolean({ error: 'again must be true or false.' }).default(false),
  })
  .refine((v) => (v.fingerprint === undefined) !== (v.jobIds === undefined), { message: 'Give either a fingerprint (the whole group) or jobIds (selected runs).' });

/** Why a run asked for was not retried. */
export const RETRY_SKIP_REASONS = ['retry_pending', 'already_retried', 'not_failed', 'refused'] as const;
export const retrySkipReasonSchema = z.enum(RETRY_SKIP_REASONS);
export type RetrySkipReason = z.infer<typeof retrySkipReasonSchema>;

export const retryFailuresResultSchema = z.object({
  /** The new jobs, one per retried run. */
  retried: z.array(z.object({ id: z.string(), retryOf: z.string() })),
  /**
   * Runs not retried (at most RETRY_MAX listed): retry_pending = its retry is still queued or
   * running (retryId); already_retried = it has a finished retry (retryId, the newest) and
   * `again` was not set; not_failed = no failed run with that id; refused = the job can no
   * longer be submitted as stored (message says why, e.g. its engine or upload is gone).
   */
  skipped: z.array(z.object({ jobId: z.string(), reason: retrySkipReasonSchema, retryId: z.string().nullable(), message: z.string().nullable() })),
  /** How many runs were skipped in all (the list above is capped). */
  skippedCount: z.number().int(),
  /** Runs of the group that could be retried but were left for another call (RETRY_MAX per call). */
  remaining: z.number().int(),
});
export type RetryFailuresResult = z.infer<typeof retryFailuresResultSchema>;

/** One failed run in the review, with the admin's note and its retries. */
export const failureRunSchema = z.object({
  job: jobSummarySchema,
  note: z.string().nullable(),
  retries: z.array(z.object({ id: z.string(), status: jobStatusSchema })),
});
export type FailureRun = z.infer<typeof failureRunSchema>;

export const resolveFailureGroupInputSchema = z.object({ fingerprint: fingerprintSchema, note: wellFormedText('Note', 2000).optional() });
export const setFailureGroupStateInputSchema = z.object({ fingerprint: fingerprintSchema, state: failureStateSchema });
