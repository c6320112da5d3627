/** Spawning, stopping and measuring the benchmark's server processes (Linux /proc). */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Everything the run writes (databases, go files) lives here; removed at exit, or by the watchdog after kill -9. */
export const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-bench-'));

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Wall-clock milliseconds with sub-millisecond precision (the emitter stamps with CLOCK_REALTIME too). */
export const wallMs = (): number => performance.timeOrigin + performance.now();

/** `count` different free ports: held open together, so no two calls can return the same port. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<net.Server>((resolve, reject) => {
      const srv = net.createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => resolve(srv));
    })),
  );
  const ports = servers.map((srv) => (srv.address() as net.AddressInfo).port);
  await Promise.all(servers.map((srv) => new Promise((r) => srv.close(r))));
  return ports;
}

export interface Spawned {
  name: string;
  child: ChildProcess;
  pid: number;
  /** The last 64 KB of its stdout and stderr, for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after graceMs; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<Spawned>();

const exited = (child: ChildProcess): boolean => child.exitCode !== null || child.signalCode !== null;

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * A tiny process that SIGKILLs `pid` when the benchmark dies without cleaning up (kill -9):
 * it holds a pipe from us, which only closes when we are gone. It leaves once `pid` has exited.
 */
const WATCHDOG = `
const pid = Number(process.argv[1]);
const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
process.stdin.on('end', () => {
  try { process.kill(pid, 'SIGKILL'); } catch {}
  setTimeout(() => { require('node:fs').rmSync(process.argv[2], { recursive: true, force: true }); process.exit(0); }, 500);
}).resume();
setInterval(() => { if (!alive()) process.exit(0); }, 1000);
`;

/**
 * Spawn a process that the benchmark owns: stopAll() stops it on errors and signals, and with
 * \`watchdog\` it is killed even if the benchmark itself is killed with SIGKILL.
 */
export function spawnOwned(name: string, command: string, args: string[], options: SpawnOptions & { watchdog?: boolean }): Spawned {
  const { watchdog, ...spawnOptions } = options;
  const child = spawn(command, args, { ...spawnOptions, stdio: ['pipe', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  if (watchdog) {
    const dog = spawn(process.execPath, ['-e', WATCHDOG, String(child.pid), runDir], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    // Not waited for: it exits by itself once the server is gone.
    dog.unref();
    (dog.stdin as net.Socket).unref();
  }
  let out = '';
  const keep = (d: Buffer): void => {
    out = (out + d.toString()).slice(-65536);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const spawned: Spawned = {
    name,
    child,
    pid: child.pid,
    output: () => out,
    async stop(graceMs = 10_000) {
      if (!exited(child)) {
        child.kill('SIGTERM');
        if (!(await waitExit(child, graceMs))) {
          child.kill('SIGKILL');
          await waitExit(child, 5000);
        }
      }
      running.delete(spawned);
    },
  };
  running.add(spawned);
  child.once('exit', () => running.delete(spawned));
  return spawned;
}

/** Kill every process still running (on an error, a signal or the end of the run). */
export async function stopAll(graceMs = 5000): Promise<void> {
  await Promise.all([...running].map((p) => p.stop(graceMs)));
}

/** Synchronous last resort for process 'exit': SIGKILL whatever is left and remove the run's files. */
export function killAllNow(): void {
  for (const p of running) if (!exited(p.child)) p.child.kill('SIGKILL');
  fs.rmSync(runDir, { recursive: true, force: true });
}

/** Poll GET url until it answers 2xx; fail with the process's output if it exits or takes too long. */
export async function waitHealthy(p: Spawned, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited(p.child)) throw new Error(`${p.name} exited (code ${p.child.exitCode}, signal ${p.child.signalCode}) before answering ${url}:\n${p.output()}`);
    if (await fetch(url).then((r) => r.ok, () => false)) return;
    await sleep(100);
  }
  throw new Error(`${p.name} did not answer ${url} within ${timeoutMs / 1000} s:\n${p.output()}`);
}

let clockTicks = 0;
const ticksPerSecond = (): number => {
  if (!clockTicks) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
};

/** CPU time (user + system, all threads) a process has used so far, in ms; from /proc/<pid>/stat. */
export function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3; utime is 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond();
}

/** Resident set size of a process in KB; from /proc/<pid>/status. */
export function rssKb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]);
}

/** Resolve with the promise, or reject with `message` after ms. */
export async function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** CPU time the whole machine has been busy (all cores, not idle or waiting on I/O), in ms; from /proc/stat. */
export function machineBusyMs(): number {
  const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  const busy = fields.slice(0, 8).reduce((a, b) => a + b, 0) - fields[3]! - fields[4]!;
  return (busy * 1000) / ticksPerSecond();
}

/**
 * A benchmark's whole run: every process it started is stopped on a signal, an error or the
 * end; an error is a failure (with undici's cause, which "fetch failed" hides); then `report`
 * prints the results, and the exit code says whether anything failed.
 */
export async function runBenchmark(main: () => Promise<void>, failures: string[], report: () => void): Promise<never> {
  const onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\n${signal}: stopping every process the benchmark started`);
    void stopAll(2000).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  process.on('exit', killAllNow);
  try {
    await main();
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : '';
    failures.push(`the run stopped: ${err instanceof Error ? err.message : String(err)}${cause}${err instanceof Error && err.stack ? `\n${err.stack.split('\n').slice(1, 4).join('\n')}` : ''}`);
  } finally {
    await stopAll();
  }
  report();
  process.exit(failures.length ? 1 : 0);
}
