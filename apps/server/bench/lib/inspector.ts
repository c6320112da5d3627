/**
 * A DevTools-protocol session on a server started with --inspect, so the memory benchmark
 * can force a full GC before reading RSS and heap: no hook in the servers' own code needed.
 */
import WebSocket from 'ws';
import { within } from './processes.ts';

export interface Inspector {
  /** Full garbage collection, then the JS heap in use (KB). */
  collectGarbage(): Promise<number>;
  close(): void;
}

interface Reply {
  id?: number;
  result?: unknown;
  error?: { message: string };
}

export async function openInspector(port: number): Promise<Inspector> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as Array<{ webSocketDebuggerUrl: string }>;
  const target = targets[0];
  if (!target) throw new Error(`no inspector target on port ${port}`);
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await within(new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject)), 10_000, `inspector on port ${port} did not open`);
  const pending = new Map<number, (reply: Reply) => void>();
  ws.on('message', (data: Buffer) => {
    const reply = JSON.parse(data.toString()) as Reply;
    if (reply.id !== undefined) pending.get(reply.id)?.(reply);
  });
  let next = 0;
  const call = (method: string): Promise<unknown> =>
    within(
      new Promise((resolve, reject) => {
        const id = ++next;
        pending.set(id, (reply) => {
          pending.delete(id);
          if (reply.error) reject(new Error(`${method}: ${reply.error.message}`));
          else resolve(reply.result);
        });
        ws.send(JSON.stringify({ id, method }));
      }),
      60_000,
      `inspector call ${method} got no answer in 60 s`,
    );
  return {
    async collectGarbage() {
      await call('HeapProfiler.collectGarbage');
      const usage = (await call('Runtime.getHeapUsage')) as { usedSize: number };
      return Math.round(usage.usedSize / 1024);
    },
    close: () => ws.terminate(),
  };
}
