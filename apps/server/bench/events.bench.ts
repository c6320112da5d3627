/**
 * Job event path benchmark (issue 7, part 11), embedded default: SQLite, in-process queue
 * (BENCH_SCALE_OUT=1: PostgreSQL + Redis bus + BullMQ queue; results in latest-scale-out.json).
 * Every figure is a ratio against a bare `ws` broadcaster fed by the same emitter in the
 * same run (bare-server.ts). The emitter (emitter.py) prints timestamped log events at a
 * fixed rate; Chorus runs it as a `command` engine job and subscribers are tRPC WebSocket
 * clients on job.events; the bare server spawns it the same way and forwards each line.
 * Scenarios marked for it (20x1@100, and 40x1@200, which offers more than the log keeps up with)
 * also probe GET /healthz every 50 ms on both servers (the target: Chorus p99 <= 50 ms).
 * The watch scenarios (watch<watchers>@<rate>) compare, on Chorus alone, one job pushed over
 * job.events with the same job polled with job.get every 500 ms over HTTP (a portal without
 * push), plus the job unwatched (its own cost): server CPU and bytes sent per delivered update
 * (a poll answer equal to the previous one delivers nothing) and emit-to-seen latency, push/poll.
 *
 * Run: pnpm --filter @chorus/server bench   (or `pnpm bench` at the root for every bench)
 *   BENCH_FULL=1          longer runs and the big scenarios (1 × 1,000 subscribers, 100 jobs × 10, 10,000 idle)
 *   BENCH_SECONDS=n       emitting time per scenario (default 10, full 30)
 *   BENCH_JOBS / BENCH_SUBS / BENCH_RATE   the many-jobs scenario (default 10 × 10 at 20/s; full 100 × 10 at 5/s)
 *   (20x1@100 is 2,000 events/s across 20 jobs, one subscriber each: the log's group commit under load)
 *   BENCH_CPU_PROF=dir    write a V8 CPU profile of every Chorus server to dir (when it stops)
 *   BENCH_IDLE=n          idle subscribed connections (default 1,000; full 10,000)
 *   BENCH_ONLY=id,id      only these scenarios (ids as printed, e.g. 1x1@100,watch10@100,idle)
 *   BENCH_LOG_LEVEL       the Chorus server's LOG_LEVEL (default info, as in production)
 * Results: the table on stdout and bench/results/latest.json. Exit 1 if any event went missing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { cpuMs, machineBusyMs, rssKb, runBenchmark, runDir, sleep, wallMs, within } from './lib/processes.ts';
import { intEnv } from './lib/report.ts';
import { probeHealthz, type HealthzMeasured } from './lib/healthz.ts';
import { quantile, type Subscriber } from './lib/tally.ts';
import { scaleOut, startBare, startChorus, startChorusServer, type RunningTarget } from './lib/targets.ts';
import { pollLatencies, pollWatcher, pushWatcher, type PollWatcher, type PushWatcher, type Watcher } from './lib/watch.ts';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const full = process.env.BENCH_FULL === '1';


interface Scenario {
  id: string;
  jobs: number;
  perJob: number;
  /** Events per second per job. */
  rate: number;
  seconds: number;
  /** Probe GET /healthz every HEALTHZ_INTERVAL_MS during the window (the log saturated). */
  healthz?: boolean;
}

/** One job watched by `watchers` clients, pushed (job.events) or polled (job.get every pollMs). */
interface WatchScenario {
  id: string;
  watchers: number;
  rate: number;
  seconds: number;
  pollMs: number;
}

const seconds = intEnv('BENCH_SECONDS', full ? 30 : 10);
const many = { jobs: intEnv('BENCH_JOBS', full ? 100 : 10), perJob: intEnv('BENCH_SUBS', 10), rate: intEnv('BENCH_RATE', full ? 5 : 20) };
const idleConnections = intEnv('BENCH_IDLE', full ? 10_000 : 1000);
const scenario = (jobs: number, perJob: number, rate: number, healthz = false): Scenario => ({ id: `${jobs}x${perJob}@${rate}`, jobs, perJob, rate, seconds, ...(healthz ? { healthz } : {}) });
const allScenarios: Scenario[] = [
  scenario(1, 1, 100),
  scenario(1, 1, 500),
  scenario(1, 100, 100),
  scenario(many.jobs, many.perJob, many.rate),
  scenario(20, 1, 100, true),
  // 8,000 events/s offered: more than the log keeps up with on a small machine (the backlog shows as latency).
  scenario(40, 1, 200, true),
  ...(full ? [scenario(1, 1000, 100), scenario(1, 1000, 500)] : []),
];
/** A job page polling job.get without push (react-query's refetchInterval); the issue's comparison point. */
const POLL_MS = 500;
const HEALTHZ_INTERVAL_MS = 50;
/** The issue's target for the health check while the log is saturated. */
const HEALTHZ_P99_TARGET_MS = 50;
const watchScenario = (watchers: number, rate: number): WatchScenario => ({ id: `watch${watchers}@${rate}`, watchers, rate, seconds, pollMs: POLL_MS });
const allWatchScenarios: WatchScenario[] = [watchScenario(1, 20), watchScenario(10, 20), watchScenario(1, 100), watchScenario(10, 100)];
const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((s) => s.trim())) : null;
const scenarios = allScenarios.filter((s) => !only || only.has(s.id));
const watchScenarios = allWatchScenarios.filter((s) => !only || only.has(s.id));
const runIdle = !only || only.has('idle');
if (only && scenarios.length === 0 && watchScenarios.length === 0 && !runIdle) {
  console.error(`BENCH_ONLY matches nothing; scenario ids: ${[...allScenarios.map((s) => s.id), ...allWatchScenarios.map((s) => s.id), 'idle'].join(', ')}.`);
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
  /** Answer times of GET /healthz probed during the window (scenarios with `healthz`). */
  healthz?: HealthzMeasured;
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
    const probe = sc.healthz ? probeHealthz(target.url, HEALTHZ_INTERVAL_MS) : null;
    fs.writeFileSync(go, '');
    const limitMs = sc.seconds * 4000 + 30_000;
    const timedOut = await within(Promise.all(subs.map((s) => s.tally.ended)), limitMs, 'timeout').then(
      () => false,
      () => true,
    );
    const healthz = await probe?.stop();
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
      ...(healthz ? { healthz } : {}),
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

type WatchMode = 'none' | 'push' | 'poll';

interface WatchMeasured {
  mode: WatchMode;
  watchers: number;
  /** Emitter lines the job printed. */
  sent: number;
  /** Lines seen by the watchers (sent × watchers when none is missing). */
  seen: number;
  /** Push: events received; poll: answers with a state different from the watcher's previous one. */
  updates: number;
  /** HTTP requests made (poll; push 0), and those that brought nothing new. */
  requests: number;
  emptyRequests: number;
  serverCpuMs: number;
  /** Server CPU per delivered update, all of it (the job's own storing included). */
  serverCpuUsPerUpdate: number;
  /** Bytes the server sent the watchers in the window: WebSocket frames, or HTTP responses with their headers. */
  wireBytes: number;
  wireBytesPerUpdate: number;
  wireBytesPerWatcherS: number;
  /** From a line's due time at the emitter to the first push or poll answer that shows it, per watcher. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  windowS: number;
  timedOut: boolean;
  notes: string[];
}

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

/**
 * One job at sc.rate lines/s on a fresh Chorus server, watched one way: 'none' (nobody watches:
 * the job's own cost, to subtract), 'push' (job.events subscribers) or 'poll' (job.get every
 * pollMs). The window runs from the go file until every watcher saw the job end.
 */
async function measureWatch(sc: WatchScenario, mode: WatchMode): Promise<WatchMeasured> {
  const server = await startChorusServer(1);
  try {
    const go = goFile();
    const count = sc.rate * sc.seconds;
    const { id: jobId } = await server.http.job.create.mutate({ engineId: server.engineIds[0]!, mode: 'pretrained', speakerId: 'bench', text: JSON.stringify({ rate: sc.rate, count, go }) });
    const access = { url: server.url, token: server.token };
    const notes: string[] = [];
    const whenReady = (p: PushWatcher): Promise<void> =>
      within(p.ready, 60_000, `watch ${sc.id} ${mode}: the emitter did not start within 60 s`).catch((err: Error) => {
        throw new Error(`${err.message}; ${p.notes.join('; ')}\n${server.output().split('\n').slice(-20).join('\n')}`);
      });
    let pushers: PushWatcher[] = [];
    let pollers: PollWatcher[] = [];
    if (mode === 'push') {
      pushers = Array.from({ length: sc.watchers }, () => pushWatcher(access, jobId));
      server.onStop(() => pushers.forEach((p) => p.close()));
      await Promise.all(pushers.map(whenReady));
    } else {
      // A poller cannot see log lines: one subscriber waits for "bench ready", then leaves before the window.
      const starter = pushWatcher(access, jobId);
      server.onStop(() => starter.close());
      await whenReady(starter);
      starter.close();
      if (mode === 'poll') {
        pollers = Array.from({ length: sc.watchers }, () => pollWatcher(access, jobId, sc.pollMs));
        server.onStop(() => pollers.forEach((p) => p.close()));
      }
    }
    const watchers: Watcher[] = [...pushers, ...pollers];
    // Settle (the starter's socket closing, the pollers' first answers) so the window holds only the stream.
    await sleep(1000);
    const bytes0 = sum(watchers.map((w) => w.bytes()));
    const updates0 = sum(watchers.map((w) => w.updates()));
    const requests0 = sum(watchers.map((w) => w.requests()));
    const cpu0 = cpuMs(server.pid);
    const t0 = wallMs();
    fs.writeFileSync(go, '');
    let timedOut = false;
    if (mode === 'none') {
      // Nobody to tell us when it ended: the emitting time plus a margin, then ask.
      await sleep(sc.seconds * 1000 + 3000);
    } else {
      const limitMs = sc.seconds * 4000 + 30_000;
      timedOut = await within(Promise.all(watchers.map((w) => w.finished)), limitMs, 'timeout').then(
        () => false,
        () => true,
      );
    }
    const cpu1 = cpuMs(server.pid);
    const t1 = wallMs();
    const wireBytes = sum(watchers.map((w) => w.bytes())) - bytes0;
    const updates = sum(watchers.map((w) => w.updates())) - updates0;
    const requests = sum(watchers.map((w) => w.requests())) - requests0;
    for (const w of watchers) w.close();
    if (mode === 'none') {
      const { status } = await server.http.job.get.query({ id: jobId });
      if (!['succeeded', 'failed', 'canceled'].includes(status)) {
        timedOut = true;
        notes.push(`the job was still ${status} when the window ended`);
      }
    }
    let latencies: number[] = [];
    if (mode === 'push') {
      latencies = pushers.flatMap((p) => p.latencies);
      notes.push(...new Set(pushers.flatMap((p) => p.notes)));
    } else if (mode === 'poll') {
      // Which seq each line got, from the stored log (read after the window, not counted).
      const reader = pushWatcher(access, jobId);
      server.onStop(() => reader.close());
      await within(reader.finished, 60_000, `watch ${sc.id}: reading the job's log back took over 60 s`);
      reader.close();
      if (reader.log.size !== count) notes.push(`the stored log holds ${reader.log.size} of ${count} lines`);
      latencies = pollers.flatMap((p) => pollLatencies(p.seen, reader.log));
      notes.push(...new Set(pollers.flatMap((p) => p.notes)));
    }
    latencies.sort((a, b) => a - b);
    const windowS = (t1 - t0) / 1000;
    const observers = mode === 'none' ? 0 : sc.watchers;
    return {
      mode,
      watchers: observers,
      sent: count,
      seen: latencies.length,
      updates,
      requests,
      emptyRequests: mode === 'poll' ? requests - updates : 0,
      serverCpuMs: round(cpu1 - cpu0, 1),
      serverCpuUsPerUpdate: round(((cpu1 - cpu0) * 1000) / Math.max(1, updates), 1),
      wireBytes,
      wireBytesPerUpdate: round(wireBytes / Math.max(1, updates), 1),
      wireBytesPerWatcherS: round(wireBytes / Math.max(1, observers) / windowS, 1),
      p50Ms: round(quantile(latencies, 0.5)),
      p99Ms: round(quantile(latencies, 0.99)),
      maxMs: round(latencies.at(-1) ?? NaN),
      windowS: round(windowS, 2),
      timedOut,
      notes,
    };
  } finally {
    await server.stop();
  }
}

interface WatchResult {
  scenario: WatchScenario;
  none: WatchMeasured;
  push: WatchMeasured;
  poll: WatchMeasured;
  /** Server CPU per update above the unwatched job's (the cost of telling the watchers). */
  deliveryCpuUsPerUpdate: { push: number; poll: number };
  /** push / poll. */
  ratio: { cpuPerUpdate: number; deliveryCpuPerUpdate: number; deliveryCpuTotal: number; bytesPerUpdate: number; bytesTotal: number; p50: number; p99: number };
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
const watchResults: WatchResult[] = [];
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
  const probed = results.filter((r) => r.bare.healthz && r.chorus.healthz);
  if (probed.length) {
    console.log(`\nGET /healthz every ${HEALTHZ_INTERVAL_MS} ms during the window (fresh connection each, from a worker thread); target: chorus p99 <= ${HEALTHZ_P99_TARGET_MS} ms\n`);
    console.log(
      table(
        ['scenario', 'events/s', 'probes b/c', 'p50 bare', 'p50 chorus', 'p99 bare', 'p99 chorus', 'max bare', 'max chorus', 'failed b/c', 'target'],
        probed.map(({ scenario: s, bare, chorus }) => {
          const [b, c] = [bare.healthz!, chorus.healthz!];
          return [
            s.id,
            String(s.jobs * s.rate),
            `${b.probes}/${c.probes}`,
            `${fmt(b.p50Ms)} ms`,
            `${fmt(c.p50Ms)} ms`,
            `${fmt(b.p99Ms)} ms`,
            `${fmt(c.p99Ms)} ms`,
            `${fmt(b.maxMs)} ms`,
            `${fmt(c.maxMs)} ms`,
            `${b.failures}/${c.failures}`,
            c.p99Ms <= HEALTHZ_P99_TARGET_MS && c.failures === 0 ? 'met' : 'MISSED',
          ];
        }),
      ),
    );
  }
  if (watchResults.length) {
    console.log(
      `\nOne job watched: push = job.events over the WebSocket; poll = job.get over HTTP every ${POLL_MS} ms (keep-alive). An update is an event pushed,\n` +
        `or a poll answer that differs from the previous one (answers with the same state delivered nothing). CPU = server process per update;\n` +
        `delivery CPU = the same above an unwatched run of the job (storing it); bytes = what the server sent (frames / responses incl. headers).\n` +
        `Latency: from a line's emit time to the first push or poll answer that shows it. x = push / poll\n`,
    );
    console.log(
      table(
        ['watchers @ events/s', 'updates push/poll', 'empty polls', 'CPU us/upd push', 'poll', 'x', 'delivery us/upd push', 'poll', 'x', 'delivery ms push/poll', 'bytes/upd push', 'poll', 'x', 'bytes/s/watcher push', 'poll', 'p50 push', 'poll', 'x', 'p99 push', 'poll', 'x'],
        watchResults.map(({ scenario: s, none, push, poll, deliveryCpuUsPerUpdate: d, ratio: r }) => [
          `${s.watchers} @ ${s.rate} (${s.seconds} s)`,
          `${push.updates}/${poll.updates}`,
          `${poll.emptyRequests}/${poll.requests}`,
          fmt(push.serverCpuUsPerUpdate, 0),
          fmt(poll.serverCpuUsPerUpdate, 0),
          fmt(r.cpuPerUpdate, 2),
          fmt(d.push, 0),
          fmt(d.poll, 0),
          fmt(r.deliveryCpuPerUpdate, 2),
          `${fmt(push.serverCpuMs - none.serverCpuMs, 0)}/${fmt(poll.serverCpuMs - none.serverCpuMs, 0)}`,
          fmt(push.wireBytesPerUpdate, 0),
          fmt(poll.wireBytesPerUpdate, 0),
          fmt(r.bytesPerUpdate, 2),
          fmt(push.wireBytesPerWatcherS, 0),
          fmt(poll.wireBytesPerWatcherS, 0),
          `${fmt(push.p50Ms, 1)} ms`,
          `${fmt(poll.p50Ms, 1)} ms`,
          fmt(r.p50, 3),
          `${fmt(push.p99Ms, 1)} ms`,
          `${fmt(poll.p99Ms, 1)} ms`,
          fmt(r.p99, 3),
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
        settings: { full, seconds, many, idleConnections, pollMs: POLL_MS, chorusLogLevel: process.env.BENCH_LOG_LEVEL ?? 'info', database: 'sqlite', queue: 'in-process' },
        scenarios: results,
        idle,
        watch: watchResults,
        healthzTarget: { p99Ms: HEALTHZ_P99_TARGET_MS, intervalMs: HEALTHZ_INTERVAL_MS },
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
  const parts = [...scenarios.map((s) => s.id), ...watchScenarios.map((s) => s.id), ...(runIdle ? [`idle ${idleConnections}`] : [])];
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
  for (const sc of watchScenarios) {
    const measured: Partial<Record<WatchMode, WatchMeasured>> = {};
    for (const mode of ['none', 'push', 'poll'] as const) {
      const m = (measured[mode] = await measureWatch(sc, mode));
      console.log(`${sc.id}: ${mode.padEnd(4)}  ${m.updates} updates  server CPU ${m.serverCpuMs} ms  ${m.wireBytes} bytes  p50 ${fmt(m.p50Ms)} ms  p99 ${fmt(m.p99Ms)} ms${m.notes.length ? `  (${m.notes.slice(0, 3).join('; ')})` : ''}`);
      const missing = mode === 'none' ? 0 : m.sent * m.watchers - m.seen;
      check(`${sc.id} ${mode}`, { missing, drops: 0, timedOut: m.timedOut });
      if (m.timedOut && !missing) failures.push(`${sc.id} ${mode}: the job did not end within the window${m.notes.length ? ` (${m.notes.join('; ')})` : ''}`);
    }
    const { none, push, poll } = measured as Record<WatchMode, WatchMeasured>;
    const delivery = (m: WatchMeasured): number => round(((m.serverCpuMs - none.serverCpuMs) * 1000) / Math.max(1, m.updates), 1);
    const d = { push: delivery(push), poll: delivery(poll) };
    watchResults.push({
      scenario: sc,
      none,
      push,
      poll,
      deliveryCpuUsPerUpdate: d,
      ratio: {
        cpuPerUpdate: ratio(push.serverCpuUsPerUpdate, poll.serverCpuUsPerUpdate),
        deliveryCpuPerUpdate: ratio(d.push, d.poll),
        deliveryCpuTotal: ratio(push.serverCpuMs - none.serverCpuMs, poll.serverCpuMs - none.serverCpuMs),
        bytesPerUpdate: ratio(push.wireBytesPerUpdate, poll.wireBytesPerUpdate),
        bytesTotal: ratio(push.wireBytes, poll.wireBytes),
        p50: round(push.p50Ms / poll.p50Ms, 4),
        p99: round(push.p99Ms / poll.p99Ms, 4),
      },
    });
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

await runBenchmark(main, failures, report);
