import { EventEmitter } from 'node:events';
import type { JobChange, JobEvent, JobEventBus } from '@chorus/api';

/** Embedded-mode event bus: one process, so a plain EventEmitter fans events out. */
export class InProcessEventBus implements JobEventBus {
  private readonly emitter = new EventEmitter();

  constructor() {
    // Every open job page and history tab is a listener; there is no meaningful cap.
    this.emitter.setMaxListeners(0);
  }

  publishJobEvent(jobId: string, event: JobEvent): void {
    this.emitter.emit(`job:${jobId}`, event);
  }

  subscribeJobEvents(jobId: string, listener: (event: JobEvent) => void): () => void {
    this.emitter.on(`job:${jobId}`, listener);
    return () => this.emitter.off(`job:${jobId}`, listener);
  }

  publishJobChange(change: JobChange): void {
    this.emitter.emit('changes', change);
  }

  subscribeJobChanges(listener: (change: JobChange) => void): () => void {
    this.emitter.on('changes', listener);
    return () => this.emitter.off('changes', listener);
  }
}
