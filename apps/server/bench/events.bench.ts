/**
 * Job event path benchmark (issue 7, part 11), embedded default: SQLite, in-process queue
 * (BENCH_SCALE_OUT=1: PostgreSQL + Redis bus + BullMQ queue; results in latest-scale-out.json).
 * Every figure is a ratio against a bare `ws` broadcaster fed by the same emitter in the
 * same run (bare-server.ts). The emitter (emitter.py) prints timestamped log events at a
 * fixed rate; Chorus runs it as a `command` engine job and subscribers are tRPC WebSocket
 * clients on job.events; the bare server spawns it the same way and forwards each line.
 *
 * Run: pnpm --filter @chorus/server bench   (or `pnpm bench` at the root for every bench)
 *   BENCH_FULL=1          longer runs and the big scenarios (1 × 1,000 subscribers, 100 jobs × 10, 10,000 idle)
 *   BENCH_SECONDS=n       emitting time per scenario (default 10, full 30)
 *   BENCH_JOBS / BENCH_SUBS / BENCH_RATE   the many-jobs scenario (default 10 × 10 at 20/s; full 100 × 10 at 5/s)
 *   (20x1@100 is 2,000 events/s across 20 jobs, one subscriber each: the log's group commit under load)
 *   BENCH_CPU_PROF=dir    write a V8 CPU profile of every Chorus server to dir (when it stops)
 *   BENCH_IDLE=n          idle subscribed connections (default 1,000; full 10,000)
 *   BENCH_ONLY=id,id      only these scenarios (ids as printed, e.g. 1x1@100,idle)
 *   BENCH_LOG_LEVEL       the Chorus server's LOG_LEVEL (default info, as in production)
 * Results: the table on stdout and bench/results/latest.json. Exit 1 if any event went missing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { cpuMs, killAllNow, machineBusyMs, rssKb, runDir, sleep, stopAll, wallMs, within } from './lib/processes.ts';
import { quantile, type Subscriber } from './lib/tally.ts';
import { scaleOut, startBare, startChorus, type RunningTarget } from './lib/targets.ts';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const full = process.env.BENCH_FULL === '1';

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`${name} must be a positive integer, got "${raw}".`);
    process.exit(2);
  }
  return n;
}

interface Scenario {
  id: string;
  jobs: number;
  perJob: number;
  /** Events per second per job. */
  rate: number;
  seconds: number;
}

const seconds = intEnv('BENCH_SECONDS', full ? 30 : 10);
const many = { jobs: intEnv('BENCH_JOBS', full ? 100 : 10), perJob: intEnv('BENCH_SUBS', 10), rate: intEnv('BENCH_RATE', full ? 5 : 20) };
const idleConnections = intEnv('BENCH_IDLE', full ? 10_000 : 1000);
const scenario = (jobs: number, perJob: number, rate: number): Scenario => ({ id: `${jobs}x${perJob}@${rate}`, jobs, perJob, rate, seconds });
const allScenarios: Scenario[] = [
  scenario(1, 1, 100),
  scenario(1, 1, 500),
  scenario(1, 100, 100),
  scenario(many.jobs, many.perJob, many.rate),
  scenario(20, 1, 100),
  ...(full ? [scenario(1, 1000, 100), scenario(1, 1000, 500)] : []),
];
const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((s) => s.trim())) : null;
const scenarios = allScenarios.filter((s) => !only || only.has(s.id));
const runIdle = !only || only.has('idle');
if (only && scenarios.length === 0 && !runIdle) {
  console.error(`BENCH_ONLY matches nothing; scenario ids: ${[...allScenarios.map((s) => s.id), 'idle'].join(', ')}.`);
  process.exit(2);
}

let goFiles = 0;
const goFile = (): string => path.join(runDir, `go-${++goFiles}`);

interface Measured {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Events the emitters printed (all jobs). */
  sent: number;
  /** sent × subscribers per job. */
  expected: number;
  delivered: number;
  missing: number;
  duplicates: number;
  outOfOrder: number;
  drops: number;
  serverCpuMs: number;
  serverCpuUsPerDelivered: number;
  /** CPU of this process (the subscribers) in the same window, to see when the clients were the limit. */
  clientCpuMs: number;
  /** Cores busy with anything else in the window (the emitters, and whatever else runs on the machine). */
  otherLoadCores: number;
  windowS: number;
  timedOut: boolean;
}

/** More than this many cores busy outside the servers and the subscribers makes a run's figures suspect. */
const BUSY_CORES = 0.3;
/** What went wrong on the subscribers' side (a job that failed), for error messages. */
const problems = (subs: Subscriber[]): string => {
  const notes = [...new Set(subs.flatMap((s) => s.tally.notes))];
  return notes.length ? `; subscribers saw: ${notes.slice(0, 5).join('; ')}` : '';
};

const round = (n: number, digits = 3): number => Number(n.toFixed(digits));

async function measure(start: () => Promise<RunningTarget>, sc: Scenario): Promise<Measured> {
  const target = await start();
  try {
    const go = goFile();
    const count = sc.rate * sc.seconds;
    const text = JSON.stringify({ rate: sc.rate, count, go });
    const subs: Subscriber[] = (await target.launch(sc.jobs, sc.perJob, text)).flat();
    // Jobs start one after another (an engine process each): more jobs, more time.
    const readyS = 60 + sc.jobs;
    await within(Promise.all(subs.map((s) => s.tally.ready)), readyS * 1000, `${target.name}: not every subscriber saw its emitter start ("bench ready") within ${readyS} s`).catch((err: Error) => {
      throw new Error(`${err.message}${problems(subs)}\n${target.name} output (last lines):\n${target.output().split('\n').slice(-20).join('\n')}`);
    });
    // Let the job-start work (status, stage, summaries) settle so the window holds only the stream.
    await sleep(1000);
    const cpu0 = cpuMs(target.pid);
    const client0 = process.cpuUsage();
    const busy0 = machineBusyMs();
    const t0 = wallMs();
    fs.writeFileSync(go, '');
    const limitMs = sc.seconds * 4000 + 30_000;
    const timedOut = await within(Promise.all(subs.map((s) => s.tally.ended)), limitMs, 'timeout').then(
      () => false,
      () => true,
    );
    if (timedOut) {
      // Which subscribers fell short, and what the server said: enough to start looking.
      const short = subs.filter((s) => s.tally.delivered < count);
      console.log(`${target.name} ${sc.id}: ${short.length} of ${subs.length} subscribers got fewer than ${count} events (fewest ${Math.min(...short.map((s) => s.tally.delivered))})${problems(short)}`);
      console.log(`${target.name} output (last lines):\n${target.output().split('\n').slice(-15).join('\n')}`);
    }
    const cpu1 = cpuMs(target.pid);
    const client = process.cpuUsage(client0);
    const busy1 = machineBusyMs();
    const t1 = wallMs();
    for (const s of subs) s.close();
    const latencies = subs.flatMap((s) => s.tally.latencies).sort((a, b) => a - b);
    const delivered = subs.reduce((n, s) => n + s.tally.delivered, 0);
    const sent = count * sc.jobs;
    const expected = sent * sc.perJob;
    return {
      p50Ms: round(quantile(latencies, 0.5)),
      p99Ms: round(quantile(latencies, 0.99)),
      maxMs: round(latencies.at(-1) ?? NaN),
      sent,
      expected,
      delivered,
      missing: expected - delivered,
      duplicates: subs.reduce((n, s) => n + s.tally.duplicates, 0),
      outOfOrder: subs.reduce((n, s) => n + s.tally.outOfOrder, 0),
      drops: subs.reduce((n, s) => n + s.tally.drops, 0),
      serverCpuMs: round(cpu1 - cpu0, 1),
      serverCpuUsPerDelivered: round(((cpu1 - cpu0) * 1000) / Math.max(1, delivered), 2),
      clientCpuMs: round((client.user + client.system) / 1000, 1),
      otherLoadCores: round((busy1 - busy0 - (cpu1 - cpu0) - (client.user + client.system) / 1000) / (t1 - t0), 2),
      windowS: round((t1 - t0) / 1000, 2),
      timedOut,
    };
  } finally {
    await target.stop();
  }
}

interface IdleMeasured {
  connections: number;
  rssBeforeKb: number;
  rssAfterKb: number;
  kbPerConnection: number;
  /** JS heap in use after a full GC (through the inspector), grown per connection. */
  heapKbPerConnection: number;
  /** One event released to every idle subscriber afterwards (they are alive, not just open). */
  fanoutP50Ms: number;
  fanoutP99Ms: number;
  delivered: number;
  drops: number;
}

async function measureIdle(start: () => Promise<RunningTarget>, connections: number): Promise<IdleMeasured> {
  const target = await start();
  try {
    const go = goFile();
    const [[first]] = (await target.launch(1, 1, JSON.stringify({ rate: 1, count: 1, go }))) as [[Subscriber]];
    await within(first.tally.ready, 60_000, `${target.name}: the idle job did not start within 60 s`).catch((err: Error) => {
      throw new Error(`${err.message}${problems([first])}\n${target.name} output (last lines):\n${target.output().split('\n').slice(-20).join('\n')}`);
    });
    // Warm the code paths first so the growth measured is the connections, not the first one's code.
    const warm = await target.subscribe(0, 20);
    const settle = async (): Promise<{ rss: number; heap: number }> => {
      // Full GC in the server, so garbage from the opening handshakes is not counted.
      await sleep(2000);
      const heap = await target.inspector!.collectGarbage();
      await sleep(500);
      return { rss: rssKb(target.pid), heap };
    };
    const before = await settle();
    const subs = await target.subscribe(0, connections);
    const after = await settle();
    const [rssBeforeKb, rssAfterKb] = [before.rss, after.rss];
    fs.writeFileSync(go, '');
    const all = [first, ...warm, ...subs];
    await within(Promise.all(subs.map((s) => s.tally.ended)), 120_000, `${target.name}: not every idle subscriber got the released event within 120 s`).catch(() => undefined);
    const latencies = subs.flatMap((s) => s.tally.latencies).sort((a, b) => a - b);
    const result = {
      connections,
      rssBeforeKb,
      rssAfterKb,
      kbPerConnection: round((rssAfterKb - rssBeforeKb) / connections, 2),
      heapKbPerConnection: round((after.heap - before.heap) / connections, 2),
      fanoutP50Ms: round(quantile(latencies, 0.5)),
      fanoutP99Ms: round(quantile(latencies, 0.99)),
      delivered: subs.reduce((n, s) => n + s.tally.delivered, 0),
      drops: all.reduce((n, s) => n + s.tally.drops, 0),
    };
    for (const s of all) s.close();
    return result;
  } finally {
    await target.stop();
  }
}

// ---------------------------------------------------------------------------------------------

const ratio = (chorus: number, bare: number): number => round(chorus / bare, 2);
const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : '—');

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const results: Array<{ scenario: Scenario; bare: Measured; chorus: Measured; ratio: { p50: number; p99: number; cpuPerEvent: number } }> = [];
let idle: { bare: IdleMeasured; chorus: IdleMeasured; ratio: { kbPerConnection: number; heapKbPerConnection: number; fanoutP99: number } } | null = null;
const failures: string[] = [];

function report(): void {
  if (results.length) {
    console.log('\nJob events: latency from the emitter\'s send time to the subscriber; x = Chorus / bare ws; CPU = server process per delivered event;\nother load = cores busy outside the server and the subscribers (emitters, other work on the machine)\n');
    console.log(
      table(
        ['scenario (jobs x subs @ events/s/job)', 'p50 bare', 'p50 chorus', 'x', 'p99 bare', 'p99 chorus', 'x', 'CPU us/ev bare', 'CPU us/ev chorus', 'x', 'delivered bare', 'delivered chorus', 'other load b/c'],
        results.map(({ scenario: s, bare: b, chorus: c, ratio: r }) => [
          `${s.id} (${s.seconds} s)`,
          `${fmt(b.p50Ms)} ms`,
          `${fmt(c.p50Ms)} ms`,
          fmt(r.p50, 1),
          `${fmt(b.p99Ms)} ms`,
          `${fmt(c.p99Ms)} ms`,
          fmt(r.p99, 1),
          fmt(b.serverCpuUsPerDelivered, 1),
          fmt(c.serverCpuUsPerDelivered, 1),
          fmt(r.cpuPerEvent, 1),
          `${b.delivered}/${b.expected}`,
          `${c.delivered}/${c.expected}`,
          `${fmt(b.otherLoadCores, 1)}/${fmt(c.otherLoadCores, 1)}`,
        ]),
      ),
    );
  }
  const busy = results.filter((r) => Math.max(r.bare.otherLoadCores, r.chorus.otherLoadCores) > BUSY_CORES).map((r) => r.scenario.id);
  if (busy.length) console.log(`\nNote: other work kept more than ${BUSY_CORES} cores busy during ${busy.join(', ')} ("other load", emitters included); those figures are noisy.`);
  if (idle) {
    console.log(`\nIdle subscribed connections: server growth per connection after a full GC; then one event to all of them\n`);
    const { bare: b, chorus: c, ratio: r } = idle;
    console.log(
      table(
        ['connections', 'RSS KB/conn bare', 'RSS KB/conn chorus', 'x', 'heap KB/conn bare', 'heap KB/conn chorus', 'x', 'fan-out p99 bare', 'fan-out p99 chorus', 'x', 'delivered bare', 'delivered chorus'],
        [
          [
            String(b.connections),
            fmt(b.kbPerConnection, 1),
            fmt(c.kbPerConnection, 1),
            fmt(r.kbPerConnection, 1),
            fmt(b.heapKbPerConnection, 1),
            fmt(c.heapKbPerConnection, 1),
            fmt(r.heapKbPerConnection, 1),
            `${fmt(b.fanoutP99Ms)} ms`,
            `${fmt(c.fanoutP99Ms)} ms`,
            fmt(r.fanoutP99, 1),
            `${b.delivered}/${b.connections}`,
            `${c.delivered}/${c.connections}`,
          ],
        ],
      ),
    );
  }
  const python = ((): string => {
    try {
      return execFileSync('python3', ['--version'], { encoding: 'utf8' }).trim();
    } catch {
      return 'python3 not found';
    }
  })();
  const out = path.join(benchDir, scaleOut ? 'results/latest-scale-out.json' : 'results/latest.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(
    out,
    JSON.stringify(
      {
        finishedAt: new Date().toISOString(),
        machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? null, memoryMb: Math.round(os.totalmem() / 1048576), node: process.version, python, loadavg: os.loadavg() },
        settings: { full, seconds, many, idleConnections, chorusLogLevel: process.env.BENCH_LOG_LEVEL ?? 'info', database: 'sqlite', queue: 'in-process' },
        scenarios: results,
        idle,
        failures,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`\nResults written to ${path.relative(process.cwd(), out)}`);
  if (failures.length) console.log(`\nFAILED:\n${failures.map((f) => `- ${f}`).join('\n')}`);
}

function check(where: string, m: { missing?: number; duplicates?: number; outOfOrder?: number; drops: number; timedOut?: boolean }): void {
  if (m.missing) failures.push(`${where}: ${m.missing} events missing${m.timedOut ? ' (still not delivered when the wait ran out)' : ''}`);
  if (m.duplicates) failures.push(`${where}: ${m.duplicates} events delivered twice`);
  if (m.outOfOrder) failures.push(`${where}: ${m.outOfOrder} events out of order`);
  if (m.drops) failures.push(`${where}: ${m.drops} sockets closed by the server mid-run`);
}

async function main(): Promise<void> {
  try {
    execFileSync('python3', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('python3 is needed on PATH: the emitter (bench/emitter.py) is the engine program both servers run.');
  }
  const parts = [...scenarios.map((s) => s.id), ...(runIdle ? [`idle ${idleConnections}`] : [])];
  console.log(`Event path benchmark, ${scaleOut ? 'scale-out (PostgreSQL, Redis bus, BullMQ queue)' : 'embedded default (SQLite, in-process queue)'}${full ? ', full run' : ''}: ${parts.join(', ')}`);
  for (const sc of scenarios) {
    const bare = await measure(startBare, sc);
    console.log(`${sc.id}: bare   p50 ${fmt(bare.p50Ms)} ms  p99 ${fmt(bare.p99Ms)} ms  ${bare.delivered}/${bare.expected} delivered  server CPU ${bare.serverCpuMs} ms`);
    check(`${sc.id} bare`, bare);
    const chorus = await measure(() => startChorus(sc.jobs), sc);
    console.log(`${sc.id}: chorus p50 ${fmt(chorus.p50Ms)} ms  p99 ${fmt(chorus.p99Ms)} ms  ${chorus.delivered}/${chorus.expected} delivered  server CPU ${chorus.serverCpuMs} ms`);
    check(`${sc.id} chorus`, chorus);
    results.push({ scenario: sc, bare, chorus, ratio: { p50: ratio(chorus.p50Ms, bare.p50Ms), p99: ratio(chorus.p99Ms, bare.p99Ms), cpuPerEvent: ratio(chorus.serverCpuUsPerDelivered, bare.serverCpuUsPerDelivered) } });
  }
  if (runIdle) {
    const bare = await measureIdle(() => startBare({ inspect: true }), idleConnections);
    console.log(`idle: bare   ${bare.kbPerConnection} KB per connection (${idleConnections})`);
    check('idle bare', { missing: bare.connections - bare.delivered, drops: bare.drops });
    const chorus = await measureIdle(() => startChorus(1, { inspect: true }), idleConnections);
    console.log(`idle: chorus ${chorus.kbPerConnection} KB per connection (${idleConnections})`);
    check('idle chorus', { missing: chorus.connections - chorus.delivered, drops: chorus.drops });
    idle = {
      bare,
      chorus,
      ratio: { kbPerConnection: ratio(chorus.kbPerConnection, bare.kbPerConnection), heapKbPerConnection: ratio(chorus.heapKbPerConnection, bare.heapKbPerConnection), fanoutP99: ratio(chorus.fanoutP99Ms, bare.fanoutP99Ms) },
    };
  }
}

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
  // undici's "fetch failed" says why only in its cause.
  const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message})` : '';
  failures.push(`the run stopped: ${err instanceof Error ? err.message : String(err)}${cause}${err instanceof Error && err.stack ? `\n${err.stack.split('\n').slice(1, 4).join('\n')}` : ''}`);
} finally {
  await stopAll();
}
report();
process.exit(failures.length ? 1 : 0);
