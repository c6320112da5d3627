// Entry point of a synthesis worker thread (plain JavaScript on purpose).
//
// Node 20 does not apply the parent's tsx loader hooks inside worker threads: a `.ts`
// worker fails with "Unknown file extension .ts" whether the parent runs under the tsx
// CLI, `node --import tsx` or vitest (verified on Node 20.20; passing
// `execArgv: ['--import', 'tsx']` does not help either). So the thread registers tsx's
// ESM hooks itself, through tsx's public API, and then imports the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./synth-worker.ts');
