/**
 * A /healthz prober, as a load balancer's health check: GET /healthz every `intervalMs` on a
 * fresh connection, timing each answer. It runs in a worker thread, so the subscribers busy
 * in the main thread do not delay its timers or its reads (that would be counted as the server's).
 */
import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { quantile } from './tally.ts';

/** Plain JS (the worker gets no tsx loader): the loop that probes and reports on 'stop'. */
const PROBE = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const { url, intervalMs, timeoutMs } = workerData;
const times = [];
let failures = 0;
let stopped = false;
let next = performance.now();
let inFlightSince = null;
const probe = () => {
  if (stopped) return;
  const t0 = performance.now();
  inFlightSince = t0;
  next = t0 + intervalMs;
  const req = http.get(url + '/healthz', { agent: false, timeout: timeoutMs }, (res) => {
    res.resume();
    res.on('end', () => {
      if (res.statusCode === 200) times.push(performance.now() - t0);
      else failures++;
      schedule();
    });
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => {
    failures++;
    schedule();
  });
};
// The next probe is due intervalMs after the last one started; a slow answer delays it, never overlaps it.
const schedule = () => {
  inFlightSince = null;
  setTimeout(probe, Math.max(0, next - performance.now()));
};
parentPort.on('message', () => {
  stopped = true;
  // A probe still waiting counts with the time it has waited so far: at least that slow.
  if (inFlightSince !== null) times.push(performance.now() - inFlightSince);
  parentPort.postMessage({ times, failures });
});
probe();
`;

const reportSchema = z.object({ times: z.array(z.number()), failures: z.number().int() });

export interface HealthzMeasured {
  intervalMs: number;
  probes: number;
  /** Probes that failed or did not answer 200 within the timeout. */
  failures: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface HealthzProbe {
  /** Stop probing and summarise the answers. */
  stop(): Promise<HealthzMeasured>;
}

const round = (n: number): number => Number(n.toFixed(2));

export function probeHealthz(url: string, intervalMs: number, timeoutMs = 10_000): HealthzProbe {
  const worker = new Worker(PROBE, { eval: true, workerData: { url, intervalMs, timeoutMs } });
  const error = new Promise<never>((_, reject) => worker.once('error', reject));
  return {
    async stop() {
      const report = new Promise<unknown>((resolve) => worker.once('message', resolve));
      worker.postMessage('stop');
      const { times, failures } = reportSchema.parse(await Promise.race([report, error]));
      await worker.terminate();
      const sorted = [...times].sort((a, b) => a - b);
      return { intervalMs, probes: times.length + failures, failures, p50Ms: round(quantile(sorted, 0.5)), p99Ms: round(quantile(sorted, 0.99)), maxMs: round(sorted.at(-1) ?? NaN) };
    },
  };
}
