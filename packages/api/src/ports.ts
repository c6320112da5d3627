import type { Db, Job } from '@chorus/db';
import type { EngineHealth, EngineInfo } from './schemas/engine.ts';
import type { JobEvent, JobEventBody } from './schemas/job-event.ts';
import type { JobChange } from './schemas/job.ts';

/**
 * The small interfaces the API depends on. The embedded drivers (in-process bus, DB-backed
 * queue) implement them today; the scale-out drivers (Redis pub/sub, BullMQ) slot in behind
 * the same shapes.
 */

/** Fan-out of stored events. Publish happens only after the event is committed to JobEvent. */
export interface JobEventBus {
  publishJobEvent(jobId: string, event: JobEvent): void;
  subscribeJobEvents(jobId: string, listener: (event: JobEvent) => void): () => void;
  publishJobChange(change: JobChange): void;
  subscribeJobChanges(listener: (change: JobChange) => void): () => void;
}

/** Hands queued jobs to workers. The Job row (status 'queued') is the source of truth. */
export interface JobQueue {
  /** A job row was committed with status 'queued': make a worker pick it up. */
  enqueue(jobId: string): Promise<void>;
  /** Ask whichever worker runs this job to abort it now. */
  abortRunning(jobId: string): Promise<void>;
}

/** Engines this deployment offers. */
export interface EngineCatalog {
  list(): EngineInfo[];
  /** The engine by id, or the default one when id is undefined. */
  get(id?: string): EngineInfo | undefined;
  /** Latest probe result for an engine. */
  health(id: string): EngineHealth;
}

/** Stored files (uploads, outputs) by the key the database records; an ObjectStore (@chorus/storage) is one. */
export interface StoredFiles {
  /** Remove a file; a file already gone is not an error. */
  remove(relativePath: string): Promise<void>;
}

/** A run's output as a standalone worker uploaded it (PUT /api/worker/jobs/:id/output), read back from the store. */
export interface StoredRunOutput {
  key: string;
  sha256: string;
  bytes: number;
  sampleRate: number;
  durationMs: number;
}

/** What the worker API needs from the server beside the database (apps/server wires the object store and the worker's helpers). */
export interface WorkerSupport {
  /** A claimed job's lease lasts this long without a heartbeat (CHORUS_LEASE_MS). */
  leaseMs: number;
  /** The output stored for this run (its key is jobOutputKey(jobId, epoch)), hashed and measured; null when none was uploaded. */
  storedOutput(jobId: string, epoch: number): Promise<StoredRunOutput | null>;
  /** What the log says about a re-run's audio against its parent's (null: nothing to say). */
  compareWithParent(job: Job, sha256: string): Promise<Extract<JobEventBody, { type: 'log' }> | null>;
}

export interface ApiDeps {
  db: Db;
  files: StoredFiles;
  bus: JobEventBus;
  queue: JobQueue;
  engines: EngineCatalog;
  /** Standalone workers: absent, workerApi.claim/complete answer that this server does not take them. */
  workers?: WorkerSupport;
}
