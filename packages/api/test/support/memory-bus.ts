import { EventEmitter } from 'node:events';
import type { JobChange, JobEventBus } from '../../src/index.ts';

/** A minimal in-memory bus for these tests (the real drivers live in apps/inference). */
export function memoryBus(): JobEventBus & { changes: JobChange[] } {
  const ee = new EventEmitter();
  ee.setMaxListeners(0);
  const changes: JobChange[] = [];
  ee.on('changes', (c: JobChange) => changes.push(c));
  return {
    changes,
    publishJobEvent: (id, e) => ee.emit(id, e),
    subscribeJobEvents: (id, l) => (ee.on(id, l), () => ee.off(id, l)),
    publishJobChange: (c) => ee.emit('changes', c),
    subscribeJobChanges: (l) => (ee.on('changes', l), () => ee.off('changes', l)),
  };
}
