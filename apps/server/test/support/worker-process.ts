import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const workerMain = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../worker/src/main.ts');

export interface WorkerProcess {
  name: string;
  /** The server URL it was given (a server's, or a proxy's in front of one). */
  serverUrl: string;
  child: ChildProcess;
  output: () => string;
}

export const isAlive = (w: WorkerProcess): boolean => w.child.exitCode === null && w.child.signalCode === null;

/**
 * A standalone worker (`pnpm worker`, apps/worker) as its own process with only what a GPU
 * machine has: the server's URL, a worker token, Redis, a data directory; no DATABASE_URL, no
 * storage settings. Its engine is the built-in one.
 */
export function spawnWorker(options: { name: string; serverUrl: string; token: string; redisUrl: string; dataDir: string }): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', workerMain], {
    // tsx resolves from the worker app, as `pnpm worker` runs it.
    cwd: path.dirname(path.dirname(workerMain)),
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      CHORUS_SERVER_URL: options.serverUrl,
      CHORUS_WORKER_TOKEN: options.token,
      REDIS_URL: options.redisUrl,
      CHORUS_WORKER_NAME: options.name,
      CHORUS_WORKER_DATA_DIR: options.dataDir,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return { name: options.name, serverUrl: options.serverUrl, child, output: () => out };
}
