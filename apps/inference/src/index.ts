export * from './engine/engine.ts';
export * from './audio/wav.ts';
export * from './audio/levels.ts';
export * from './engines/registry.ts';
export * from './drivers/in-process-bus.ts';
export * from './drivers/embedded-queue.ts';
export * from './worker/worker.ts';
export type { WorkerLogger } from './worker/logger.ts';
