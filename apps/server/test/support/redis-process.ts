import { spawn, type ChildProcess } from 'node:child_process';
import { sleep } from './harness.ts';

/** A Redis of this test's own (nothing kept on disk, like the deployment's), so it can be killed and started again. */
export async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    const up = await new Promise<boolean>((resolve) => {
      const ping = spawn('redis-cli', ['-p', String(port), 'ping'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      ping.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      ping.on('exit', () => resolve(out.trim() === 'PONG'));
    });
    if (up) return child;
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error('redis-server did not answer in 10 s');
}
