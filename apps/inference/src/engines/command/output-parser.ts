import type { LogLevel } from '@chorus/api/schemas';
import type { EngineEvent } from '../../engine/engine.ts';
import { isChorusLine, parseChorusLine } from './chorus-protocol.ts';
import { DEFAULT_MAX_LINE_CHARS, LineSplitter } from './line-splitter.ts';
import { parsePythonLogLine } from './python-log.ts';
import { TracebackCollector } from './traceback.ts';
import { parseTqdmLine, type TqdmBar } from './tqdm.ts';

export type OutputStream = 'stdout' | 'stderr';

/** What one line (or one traceback block) of a command's output means. */
export type OutputItem =
  | { kind: 'chorus'; event: EngineEvent }
  | { kind: 'chorus-invalid'; line: string; reason: string }
  | { kind: 'tqdm'; bar: TqdmBar }
  | { kind: 'log'; level: LogLevel; message: string }
  | { kind: 'traceback'; text: string };

/**
 * Classify one complete line. Blank lines mean nothing. Unrecognised lines are `info` on
 * either stream: Python libraries chatter on stderr, so stderr is not an error. A tqdm bar
 * may have the next output glued to it (tqdm ends its redraws without a newline).
 */
export function classifyLine(line: string): OutputItem[] {
  if (line.trim() === '') return [];
  if (isChorusLine(line)) {
    const parsed = parseChorusLine(line);
    return [parsed.ok ? { kind: 'chorus', event: parsed.event } : { kind: 'chorus-invalid', line, reason: parsed.reason }];
  }
  const tqdm = parseTqdmLine(line);
  if (tqdm) return [{ kind: 'tqdm', bar: tqdm.bar }, ...classifyLine(tqdm.rest)];
  const log = parsePythonLogLine(line);
  if (log) return [{ kind: 'log', level: log.level, message: log.message }];
  return [{ kind: 'log', level: 'info', message: line.trimEnd() }];
}

/**
 * Streams a command's stdout and stderr into classified items, line by line as the text
 * arrives. Tracebacks on stderr are collapsed into one item; see TracebackCollector for
 * why a finished traceback may be held until the next line or flushPending().
 */
export class CommandOutputParser {
  private readonly splitters: Record<OutputStream, LineSplitter>;
  private readonly tracebacks = new TracebackCollector();

  constructor(
    private readonly onItem: (item: OutputItem) => void,
    maxLineChars = DEFAULT_MAX_LINE_CHARS,
  ) {
    this.splitters = { stdout: new LineSplitter(maxLineChars), stderr: new LineSplitter(maxLineChars) };
  }

  push(stream: OutputStream, chunk: string): void {
    for (const line of this.splitters[stream].push(chunk)) this.line(stream, line);
  }

  /** The stream has ended: its last unterminated line is complete, and a held traceback is released. */
  end(stream: OutputStream): void {
    for (const line of this.splitters[stream].end()) this.line(stream, line);
    if (stream === 'stderr') this.flushPending();
  }

  /** Whether a traceback is held back waiting for its next line. */
  get hasPending(): boolean {
    return this.tracebacks.pending;
  }

  flushPending(): void {
    for (const text of this.tracebacks.flush()) this.onItem({ kind: 'traceback', text });
  }

  private line(stream: OutputStream, line: string): void {
    if (stream === 'stdout') {
      this.classified(line);
      return;
    }
    // A bar's redraw has no newline after it, so a traceback may start on the bar's line.
    let bar = this.tracebacks.pending ? null : parseTqdmLine(line);
    while (bar) {
      this.onItem({ kind: 'tqdm', bar: bar.bar });
      line = bar.rest;
      if (line === '') return;
      bar = parseTqdmLine(line);
    }
    const step = this.tracebacks.push(line);
    for (const text of step.blocks) this.onItem({ kind: 'traceback', text });
    for (const l of step.lines) this.classified(l);
  }

  private classified(line: string): void {
    for (const item of classifyLine(line)) this.onItem(item);
  }
}
