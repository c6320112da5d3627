import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';

export interface RunningServer {
  url: string;
  /** Everything the server printed so far (for failure messages). */
  output(): string;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const probe = net.createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const address = probe.address();
  probe.close();
  if (address === null || typeof address === 'string') throw new Error('Could not find a free port.');
  return address.port;
}

/**
 * Start the real Chorus server (apps/server/src/main.ts under tsx) with its own port,
 * SQLite file and data directory, and wait until GET /healthz answers 200.
 */
export async function startServer(opts: { repoRoot: string; tmpDir: string; timeoutMs?: number; env?: Record<string, string> }): Promise<RunningServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const serverDir = path.join(opts.repoRoot, 'apps/server');
  let log = '';
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: serverDir,
    env: {
      ...process.env,
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: `file:${path.join(opts.tmpDir, 'chorus.db')}`,
      CHORUS_DATA_DIR: path.join(opts.tmpDir, 'data'),
      CHORUS_WEB_DIST: path.join(opts.repoRoot, 'apps/web/dist'),
      CHORUS_SHUTDOWN_GRACE_MS: '2000',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'info',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
  let exited: number | string | null = null;
  child.once('exit', (code, signal) => (exited = code ?? signal ?? 'unknown'));

  const stop = async (): Promise<void> => {
    if (exited !== null || child.exitCode !== null) return;
    const done = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(timer);
  };

  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (exited !== null) throw new Error(`The server exited (${exited}) before it was healthy. Output:\n${log}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`The server did not answer GET /healthz within ${opts.timeoutMs ?? 60_000} ms. Output:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { url, output: () => log, stop };
}
