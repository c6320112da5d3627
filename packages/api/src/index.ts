export { appRouter, type AppRouter } from './root.ts';
export { createCallerFactory, type ApiContext } from './trpc.ts';
export type { ApiDeps, EngineCatalog, JobEventBus, JobQueue } from './ports.ts';
export { JobEventLog, eventFromRow, type AppendOptions } from './services/job-event-log.ts';
export { loadJobSummary, toJobSummary, jobAudioUrl, queuePositionOf } from './services/job-summary.ts';
export { newId } from './ids.ts';
export { announceQueuePositions } from './services/queue-positions.ts';
export * from './schemas/index.ts';
