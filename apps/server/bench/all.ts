/**
 * `pnpm bench`: every benchmark file in turn, each its own process (they share the machine,
 * never run together). BENCH_SUITES=events,burst,history picks some; without it, a suite's own
 * selection (BENCH_ONLY for events, BENCH_BURST_ONLY, BENCH_HISTORY_ONLY) picks that suite,
 * and with none of them set every suite runs, in that order.
 * Exit 1 if any of them failed; each still writes its own bench/results/<name>.json.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const suites = ['events', 'burst', 'history'];
const selectedBy: Record<string, string> = { events: 'BENCH_ONLY', burst: 'BENCH_BURST_ONLY', history: 'BENCH_HISTORY_ONLY' };
const selected = suites.filter((s) => process.env[selectedBy[s]!]);
const chosen = process.env.BENCH_SUITES ? process.env.BENCH_SUITES.split(',').map((s) => s.trim()) : selected.length ? selected : suites;
const unknown = chosen.filter((s) => !suites.includes(s));
if (unknown.length) {
  console.error(`BENCH_SUITES: unknown ${unknown.join(', ')}; suites: ${suites.join(', ')}.`);
  process.exit(2);
}
const failed: string[] = [];
for (const suite of chosen) {
  console.log(`\n=== bench: ${suite} ===\n`);
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(benchDir, `${suite}.bench.ts`)], { stdio: 'inherit' });
  if (run.status !== 0) failed.push(`${suite} (exit ${run.status ?? run.signal})`);
}
if (failed.length) console.log(`\nBenchmarks that failed: ${failed.join(', ')}`);
process.exit(failed.length ? 1 : 0);
