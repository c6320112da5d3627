/**
 * Job burst benchmark (issue 7, part 11): 100 jobs submitted at once to a real Chorus server
 * (src/main.ts, SQLite, in-process queue) whose only engine is a trivial `command` engine
 * (tiny-engine.py: reads the job document, writes 0.1 s of silence, exits), against the same
 * program run straight from a shell in the same run.
 *
 * Chorus: job.create × N over HTTP, all sent at once (no batch procedure exists), timed from the
 * first submit until a job.onChange WebSocket push has reported every one of them succeeded.
 * Baselines: `for i in $(seq N); do python3 tiny-engine.py < req-$i.json > /dev/null; done`
 * (sequential; the issue's target, Chorus jobs/s ÷ loop jobs/s ≥ 0.8, is against this one) and
 * `xargs -P C` with the same commands (parallel at the engine's concurrency C, for C > 1).
 * Each scenario (one engine concurrency) runs a warm-up burst, then BENCH_BURST_RUNS bursts
 * alternating with the baselines; figures are medians.
 *
 * Run: pnpm --filter @chorus/server bench   (or BENCH_SUITES=burst; `pnpm bench` at the root)
 *   BENCH_BURST_JOBS=n          jobs per burst (default 100)
 *   BENCH_BURST_RUNS=n          measured bursts per scenario (default 3)
 *   BENCH_BURST_CONCURRENCY=a,b engine concurrencies to run, one scenario each (default 1,2)
 *   BENCH_BURST_ONLY=id,id      only these scenarios (ids as printed: c1, c2, …)
 *   BENCH_CPU_PROF=dir          a V8 CPU profile of every Chorus server (written when it stops)
 *   BENCH_LOG_LEVEL             the Chorus server's LOG_LEVEL (default info, as in production)
 * Results: the table on stdout and bench/results/burst.json. Exit 1 if a job did not succeed.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { AppRouter } from '@chorus/api';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import WebSocket from 'ws';
import { cpuMs, machineBusyMs, runBenchmark, runDir, wallMs, within } from './lib/processes.ts';
import { fmt, intEnv, median, onlyFrom, round, table, writeResults } from './lib/report.ts';
import { startChorusServer, type ChorusServer } from './lib/targets.ts';

const execFileAsync = promisify(execFile);
const benchDir = path.dirname(fileURLToPath(import.meta.url));
const ENGINE = path.join(benchDir, 'tiny-engine.py');
const jobs = intEnv('BENCH_BURST_JOBS', 100);
const runs = intEnv('BENCH_BURST_RUNS', 3);
const concurrencies = (process.env.BENCH_BURST_CONCURRENCY ?? '1,2').split(',').map((s) => {
  const n = Number(s.trim());
  if (!Number.isInteger(n) || n < 1) {
    console.error(`BENCH_BURST_CONCURRENCY must list positive integers, got "${process.env.BENCH_BURST_CONCURRENCY}".`);
    process.exit(2);
  }
  return n;
});
const only = onlyFrom('BENCH_BURST_ONLY');
const scenarios = concurrencies.map((c) => ({ id: `c${c}`, concurrency: c })).filter((s) => !only || only.has(s.id));
if (scenarios.length === 0) {
  console.error(`BENCH_BURST_ONLY matches nothing; scenario ids: ${concurrencies.map((c) => `c${c}`).join(', ')}.`);
  process.exit(2);
}
/** Generous: 100 jobs of a 30 ms program should take seconds, not minutes. */
const BURST_TIMEOUT_MS = 120_000 + jobs * 1000;

interface Timed {
  wallMs: number;
  jobsPerS: number;
  /** CPU of the Chorus server process in the window (0 for the shell baselines). */
  serverCpuMs: number;
  /** Cores busy on the whole machine in the window (everything: server, engines, shells, others). */
  busyCores: number;
}

const timed = (count: number, ms: number, serverCpu: number, busyMs: number): Timed => ({
  wallMs: round(ms, 1),
  jobsPerS: round((count * 1000) / ms, 2),
  serverCpuMs: round(serverCpu, 1),
  busyCores: round(busyMs / ms, 2),
});

// ---------------------------------------------------------------------------------------------
// Baselines: the same program from a shell, with job documents like the ones Chorus writes.

const shellDir = fs.mkdtempSync(path.join(runDir, 'shell-'));
for (let i = 1; i <= jobs; i++) {
  const document = {
    version: 1,
    mode: 'pretrained',
    text: `burst job ${i}`,
    prompt_wav: null,
    prompt_text: null,
    instruct: null,
    speaker_id: 'bench',
    speed: 1,
    seed: i,
    output_wav: path.join(shellDir, `out-${i}.wav`),
    generation: 2,
    model: 'bench-tiny',
    sample_rate: 24000,
  };
  fs.writeFileSync(path.join(shellDir, `req-${i}.json`), JSON.stringify(document));
}

/** Run a bash script and time it; asynchronous, so the open client sockets keep being served meanwhile. */
async function shell(script: string): Promise<Timed> {
  const busy0 = machineBusyMs();
  const t0 = wallMs();
  await execFileAsync('bash', ['-c', script], { cwd: shellDir, env: { ...process.env, PYTHONUNBUFFERED: '1' } });
  const t1 = wallMs();
  const result = timed(jobs, t1 - t0, 0, machineBusyMs() - busy0);
  for (let i = 1; i <= jobs; i++) {
    const out = path.join(shellDir, `out-${i}.wav`);
    if (!fs.existsSync(out)) throw new Error(`the shell baseline wrote no ${out}`);
    fs.rmSync(out);
  }
  return result;
}

const sequential = (): Promise<Timed> => shell(`for i in $(seq ${jobs}); do python3 ${JSON.stringify(ENGINE)} < req-$i.json > /dev/null || exit 1; done`);
const parallel = (c: number): Promise<Timed> => shell(`seq ${jobs} | xargs -P ${c} -I{} sh -c 'python3 ${JSON.stringify(ENGINE)} < req-{}.json > /dev/null'`);

// ---------------------------------------------------------------------------------------------
// Chorus

/** Ids reported succeeded (or failed) by job.onChange, over one WebSocket for the whole scenario. */
function watch(chorus: ChorusServer): { succeeded: Set<string>; failed: Map<string, string>; changed: () => Promise<void>; close(): void } {
  const succeeded = new Set<string>();
  const failed = new Map<string, string>();
  let wake: (() => void) | null = null;
  const ws = createWSClient({
    url: `${chorus.url.replace(/^http/, 'ws')}/trpc`,
    connectionParams: { token: chorus.token },
    // Node 20 has no global WebSocket; the ws package implements the same interface.
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
  });
  const trpc = createTRPCClient<AppRouter>({ links: [wsLink({ client: ws })] });
  const sub = trpc.job.onChange.subscribe(undefined, {
    onData({ job }) {
      if (job.status === 'succeeded') succeeded.add(job.id);
      else if (job.status === 'failed' || job.status === 'canceled') failed.set(job.id, `${job.status}: ${job.errorCode ?? ''} ${job.errorMessage ?? ''}`);
      wake?.();
    },
    onError(err) {
      console.error(`job.onChange error: ${err.message}`);
    },
  });
  const close = (): void => {
    sub.unsubscribe();
    ws.close();
  };
  chorus.onStop(close);
  return { succeeded, failed, changed: () => new Promise<void>((r) => (wake = r)), close };
}

async function burst(chorus: ChorusServer, watcher: ReturnType<typeof watch>, count: number): Promise<Timed> {
  const cpu0 = cpuMs(chorus.pid);
  const busy0 = machineBusyMs();
  const t0 = wallMs();
  const created = await Promise.all(
    Array.from({ length: count }, (_, i) => chorus.http.job.create.mutate({ engineId: chorus.engineIds[i % chorus.engineIds.length], mode: 'pretrained', speakerId: 'bench', text: `burst job ${i + 1}` })),
  );
  const ids = created.map((c) => c.id);
  const done = async (): Promise<void> => {
    for (;;) {
      const changed = watcher.changed();
      const bad = ids.find((id) => watcher.failed.has(id));
      if (bad) throw new Error(`job ${bad} ${watcher.failed.get(bad)}\n${chorus.output().split('\n').slice(-10).join('\n')}`);
      if (ids.every((id) => watcher.succeeded.has(id))) return;
      await changed;
    }
  };
  await within(done(), BURST_TIMEOUT_MS, `${ids.filter((id) => !watcher.succeeded.has(id)).length} of ${count} jobs not reported succeeded within ${BURST_TIMEOUT_MS / 1000} s`);
  const t1 = wallMs();
  const result = timed(count, t1 - t0, cpuMs(chorus.pid) - cpu0, machineBusyMs() - busy0);
  // The push is the signal; the stored rows must agree.
  for (const id of ids) {
    const job = await chorus.http.job.get.query({ id });
    if (job.status !== 'succeeded') throw new Error(`job ${id} was pushed as succeeded but job.get says ${job.status}`);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------

interface ScenarioResult {
  id: string;
  concurrency: number;
  runs: { chorus: Timed[]; sequential: Timed[]; parallel: Timed[] | null };
  median: { chorusJobsPerS: number; sequentialJobsPerS: number; parallelJobsPerS: number | null; chorusServerCpuMsPerJob: number };
  /** Chorus jobs/s ÷ baseline jobs/s (medians). */
  ratio: { vsSequential: number; vsParallel: number | null };
}

const results: ScenarioResult[] = [];
const failures: string[] = [];
const TARGET = 0.8;

async function main(): Promise<void> {
  console.log(`Job burst benchmark: ${jobs} jobs at once through a trivial command engine (${path.relative(process.cwd(), ENGINE)}), ${runs} runs per scenario: ${scenarios.map((s) => s.id).join(', ')}`);
  for (const sc of scenarios) {
    const chorus = await startChorusServer(sc.concurrency, { command: ['python3', ENGINE] });
    try {
      const watcher = watch(chorus);
      // Warm-up: the server's first jobs (code paths, prepared statements) and the page cache for python3.
      await burst(chorus, watcher, Math.min(jobs, 10));
      await sequential();
      const runsOf: ScenarioResult['runs'] = { chorus: [], sequential: [], parallel: sc.concurrency > 1 ? [] : null };
      for (let r = 0; r < runs; r++) {
        const seq = await sequential();
        runsOf.sequential.push(seq);
        const par = sc.concurrency > 1 ? await parallel(sc.concurrency) : null;
        if (par) runsOf.parallel!.push(par);
        const c = await burst(chorus, watcher, jobs);
        runsOf.chorus.push(c);
        console.log(`${sc.id} run ${r + 1}: chorus ${fmt(c.jobsPerS, 1)} jobs/s (server CPU ${fmt(c.serverCpuMs / jobs, 1)} ms/job, ${fmt(c.busyCores, 1)} cores busy), shell loop ${fmt(seq.jobsPerS, 1)} jobs/s${par ? `, xargs -P ${sc.concurrency} ${fmt(par.jobsPerS, 1)} jobs/s` : ''}`);
      }
      const m = {
        chorusJobsPerS: round(median(runsOf.chorus.map((t) => t.jobsPerS)), 2),
        sequentialJobsPerS: round(median(runsOf.sequential.map((t) => t.jobsPerS)), 2),
        parallelJobsPerS: runsOf.parallel ? round(median(runsOf.parallel.map((t) => t.jobsPerS)), 2) : null,
        chorusServerCpuMsPerJob: round(median(runsOf.chorus.map((t) => t.serverCpuMs / jobs)), 2),
      };
      results.push({
        id: sc.id,
        concurrency: sc.concurrency,
        runs: runsOf,
        median: m,
        ratio: { vsSequential: round(m.chorusJobsPerS / m.sequentialJobsPerS, 2), vsParallel: m.parallelJobsPerS ? round(m.chorusJobsPerS / m.parallelJobsPerS, 2) : null },
      });
    } catch (err) {
      // undici's "fetch failed" says why only in its cause.
      const cause = err instanceof Error && err.cause instanceof Error ? ` (${err.cause.message}${err.cause.cause instanceof Error ? `: ${err.cause.cause.message}` : ''})` : '';
      if (process.env.BENCH_DEBUG) console.error(err);
      failures.push(`${sc.id}: ${err instanceof Error ? err.message : String(err)}${cause}\nChorus output (last lines):\n${chorus.output().split('\n').slice(-8).join('\n')}`);
    } finally {
      await chorus.stop();
    }
  }
}

function report(): void {
  if (results.length) {
    console.log(`\nJob burst: ${jobs} jobs at once, medians of ${runs} runs; x = Chorus jobs/s ÷ baseline jobs/s (target vs the shell loop: ≥ ${TARGET})\n`);
    console.log(
      table(
        ['scenario (engine concurrency)', 'shell loop jobs/s', 'chorus jobs/s', 'x loop', `xargs -P jobs/s`, 'x xargs', 'chorus server CPU ms/job', 'target met'],
        results.map((r) => [
          `${r.id} (${r.concurrency})`,
          fmt(r.median.sequentialJobsPerS, 1),
          fmt(r.median.chorusJobsPerS, 1),
          fmt(r.ratio.vsSequential),
          r.median.parallelJobsPerS === null ? '—' : fmt(r.median.parallelJobsPerS, 1),
          r.ratio.vsParallel === null ? '—' : fmt(r.ratio.vsParallel),
          fmt(r.median.chorusServerCpuMsPerJob, 1),
          r.ratio.vsSequential >= TARGET ? 'yes' : 'no',
        ]),
      ),
    );
  }
  const out = writeResults(benchDir, 'burst', {
    settings: { jobs, runs, concurrencies, chorusLogLevel: process.env.BENCH_LOG_LEVEL ?? 'info', database: 'sqlite', queue: 'in-process', target: `chorus jobs/s ÷ shell loop jobs/s ≥ ${TARGET}` },
    scenarios: results,
    failures,
  });
  console.log(`\nResults written to ${path.relative(process.cwd(), out)}`);
  if (failures.length) console.log(`\nFAILED:\n${failures.map((f) => `- ${f}`).join('\n')}`);
}

await runBenchmark(main, failures, report);
