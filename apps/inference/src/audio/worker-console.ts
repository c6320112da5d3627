/**
 * Silence console output inside a decode worker. The decoder libraries print a line per bad
 * frame (mpg123 can print thousands for one damaged file); in a server that would flood the
 * log. Everything is counted instead, and the first line kept, for the task's report.
 */
import { format } from 'node:util';
import type { SwallowedOutput } from './prompt-decode-protocol.ts';

const METHODS = ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir', 'table'] as const;

let swallowed: SwallowedOutput = { lines: 0, first: null };

function swallow(...args: unknown[]): void {
  swallowed.lines++;
  swallowed.first ??= format(...args).slice(0, 300);
}

/** Replace console.* (and direct stdout/stderr writes) with the counter. Call before importing any decoder. */
export function silenceConsole(): void {
  for (const method of METHODS) console[method] = swallow;
  const quietWrite = (chunk: unknown, ...rest: unknown[]): boolean => {
    swallow(typeof chunk === 'string' ? chunk.trimEnd() : String(chunk));
    const callback = rest.find((r): r is () => void => typeof r === 'function');
    callback?.();
    return true;
  };
  process.stdout.write = quietWrite;
  process.stderr.write = quietWrite;
}

/** What was swallowed since the last call. */
export function takeSwallowedOutput(): SwallowedOutput {
  const out = swallowed;
  swallowed = { lines: 0, first: null };
  return out;
}
