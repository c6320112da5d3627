/**
 * Test helpers shared by the remote-engine tests: run an engine job and keep every event,
 * a synthetic reference recording, a closed port, and checks on progress events.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { EngineError, type Engine, type EngineEvent, type EngineInput, type EngineOutput } from '../../src/engine/engine.ts';

export interface JobRun {
  output?: EngineOutput;
  error?: EngineError;
  events: EngineEvent[];
  /** When run() settled (performance.now()). */
  settledAt: number;
}

/** Run a job to the end; `abortAfter` decides when to cancel (given each event as it comes). */
export async function runJob(engine: Engine, input: EngineInput, options: { seed?: number; controller?: AbortController } = {}): Promise<JobRun> {
  const events: EngineEvent[] = [];
  const controller = options.controller ?? new AbortController();
  try {
    const output = await engine.run(input, { seed: options.seed ?? 1234, signal: controller.signal, emit: (e) => events.push(e) });
    return { output, events, settledAt: performance.now() };
  } catch (err) {
    if (!(err instanceof EngineError)) throw err;
    return { error: err, events, settledAt: performance.now() };
  }
}

/** A reference "voice": a harmonic tone with a slow vibrato, mono, at `sampleRate`. */
export function referenceVoice(seconds = 3, sampleRate = 44100): { samples: Float32Array; sampleRate: number } {
  const n = Math.round(seconds * sampleRate);
  const samples = new Float32Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const f0 = 160 + 12 * Math.sin((2 * Math.PI * 5 * i) / sampleRate);
    phase += (2 * Math.PI * f0) / sampleRate;
    samples[i] = 0.3 * Math.sin(phase) + 0.15 * Math.sin(2 * phase) + 0.08 * Math.sin(3 * phase);
  }
  return { samples, sampleRate };
}

/** A port nothing listens on (a server was bound to it and closed again). */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const logs = (run: JobRun, level?: string): string[] =>
  run.events.flatMap((e) => (e.type === 'log' && (level === undefined || e.level === level) ? [e.message] : []));

export const stages = (run: JobRun): string[] => run.events.flatMap((e) => (e.type === 'stage' ? [e.name] : []));

/** Progress events are sane: steps and share never go back, never pass the total, and end at total. */
export function expectProgressEndsComplete(run: JobRun): void {
  const points = run.events.flatMap((e) => (e.type === 'progress' ? [e] : []));
  expect(points.length).toBeGreaterThan(1);
  let lastStep = -1;
  let lastShare = -1;
  for (const [i, p] of points.entries()) {
    expect(Number.isInteger(p.step) && Number.isInteger(p.total)).toBe(true);
    expect(p.step).toBeGreaterThanOrEqual(lastStep);
    const share = p.step / p.total;
    expect(share).toBeGreaterThanOrEqual(lastShare);
    if (i < points.length - 1) expect(p.step).toBeLessThan(p.total);
    lastStep = p.step;
    lastShare = share;
  }
  const final = points.at(-1)!;
  expect(final.step).toBe(final.total);
}

/** RMS of samples. */
export function rms(samples: Float32Array): number {
  let sum = 0;
  for (const x of samples) sum += x * x;
  return Math.sqrt(sum / Math.max(1, samples.length));
}
