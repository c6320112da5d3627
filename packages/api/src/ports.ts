import type { Db } from '@chorus/db';
import type { EngineHealth, EngineInfo } from './schemas/engine.ts';
import type { JobEvent } from './schemas/job-event.ts';
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

/** Stored files (uploads, outputs) by the relative path the database records. */
export interface StoredFiles {
  /** Remove a file; a file already gone is not an error. */
  remove(relativePath: string): Promise<void>;
}

export interface ApiDeps {
  db: Db;
  files: StoredFiles;
  bus: JobEventBus;
  queue: JobQueue;
  engines: EngineCatalog;
}
