export * from './common.ts';
export * from './error-codes.ts';
export * from './job-input.ts';
export * from './job-event.ts';
export * from './job.ts';
export * from './engine.ts';
export * from './upload.ts';
export * from './auth.ts';
