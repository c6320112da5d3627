// Entry point of a prompt-decode worker thread (plain JavaScript on purpose, like
// engines/builtin/synth-worker-boot.mjs: Node 20 does not apply the parent's tsx hooks in
// worker threads, so the thread registers them itself before importing TypeScript).
//
// The console is silenced before any decoder library is loaded, so that nothing they
// print (or capture at load time) reaches the server log.
import { register } from 'tsx/esm/api';

register();
const { silenceConsole } = await import('./worker-console.ts');
silenceConsole();
await import('./prompt-decode-worker.ts');
