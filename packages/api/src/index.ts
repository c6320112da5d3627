export { appRouter, type AppRouter } from './root.ts';
export {
  createApiContext,
  createCallerFactory,
  errorRef,
  type ApiContext,
  type ApiServices,
  type HttpResponseControl,
  type RequestMeta,
} from './trpc.ts';
export type { ApiDeps, EngineCatalog, JobEventBus, JobQueue, StoredFiles, StoredRunOutput, WorkerSupport } from './ports.ts';
export { JobEventLog, eventFromRow, type AppendOptions, type JobColumnPatch, type JobEventLogOptions, type LeaseFence } from './services/job-event-log.ts';
export { claimJob, renewLeases, recoverExpiredLeases, DEFAULT_LEASE_MS, MAX_STARTS, type JobLease, type RecoveredJobs } from './services/job-leases.ts';
export { createEventLogStore } from './services/event-log/create-store.ts';
export type { AppendOutcome, AppendRequest, EventLogStore } from './services/event-log/store.ts';
export { loadJobSummary, toJobSummary, jobAudioUrl, queuePositionOf } from './services/job-summary.ts';
export { newId, idLowerBoundAt } from './ids.ts';
export { AuthService, API_TOKEN_PREFIX, DEFAULT_SESSION_POLICY, type Credential, type Identity, type SessionPolicy } from './auth/auth-service.ts';
export { authorize, SETUP_NEEDED_MESSAGE, type Authorization } from './auth/authorize.ts';
export { authorizeWorker, isWorkerToken, workerIdOfLeaseOwner, workerLeaseOwner, WORKER_TOKEN_PREFIX, type WorkerAuthorization, type WorkerIdentity } from './auth/worker-auth.ts';
export { checkWorkerLease, type LeaseCheck } from './services/worker-lease-check.ts';
export { heartbeatMsFor, workerStaleAfterMs } from './router/worker-api.ts';
export { remoteEngineWorkers } from './services/remote-engines.ts';
export { LoginThrottle, DEFAULT_THROTTLE, type ThrottleLimits } from './auth/login-throttle.ts';
export { SCRYPT_PARAMS, TEST_SCRYPT_MIN_N, usePasswordHashCostForTests } from './auth/secrets.ts';
export { jobAccessDenial, type JobAction } from './services/job-access.ts';
export { deleteJob, uploadFilesLock, type DeletedJob } from './services/job-deletion.ts';
export { KeyedLock } from './services/keyed-lock.ts';
export { recordAudit } from './services/audit-log.ts';
export { loadSettings } from './services/workspace-settings.ts';
export { sweepRetention } from './services/retention.ts';
export { pcmCopyBytes, storedUploadBytes } from './services/upload-sizes.ts';
export { redactLogMessage } from './services/log-redaction.ts';
export * from './schemas/index.ts';
export { failureFingerprint, normalizeFailureMessage, type FailureFingerprintInput } from './services/failure-fingerprint.ts';
