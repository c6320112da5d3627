/** Shared by the burst and history benches: number formatting, the text table and the results file. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const round = (n: number, digits = 3): number => Number(n.toFixed(digits));
export const fmt = (n: number, digits = 2): string => (Number.isFinite(n) ? n.toFixed(digits) : '—');

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** `only` from a comma-separated variable, or null for everything. */
export function onlyFrom(name: string): Set<string> | null {
  const raw = process.env[name];
  return raw ? new Set(raw.split(',').map((s) => s.trim()).filter(Boolean)) : null;
}

export function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`${name} must be a positive integer, got "${raw}".`);
    process.exit(2);
  }
  return n;
}

export function machine(): Record<string, unknown> {
  const python = ((): string => {
    try {
      return execFileSync('python3', ['--version'], { encoding: 'utf8' }).trim();
    } catch {
      return 'python3 not found';
    }
  })();
  return { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? null, memoryMb: Math.round(os.totalmem() / 1048576), node: process.version, python, loadavg: os.loadavg() };
}

/** Write bench/results/<name>.json with the machine and the finish time; returns its path. */
export function writeResults(benchDir: string, name: string, body: Record<string, unknown>): string {
  const out = path.join(benchDir, 'results', `${name}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ finishedAt: new Date().toISOString(), machine: machine(), ...body }, null, 2) + '\n');
  return out;
}
