import type { EngineEmit } from '../../engine/engine.ts';
import type { OutputItem } from './output-parser.ts';
import { TqdmTracker } from './tqdm.ts';

/** The stage a plain script (no @chorus stages) is shown in while it runs, and after it exits. */
export const IMPLICIT_RUN_STAGE = 'synthesis';
export const IMPLICIT_FINISH_STAGE = 'encoding';

const RECENT_LINES = 20;
const DIAGNOSTIC_MESSAGES = 200;
const DIAGNOSTIC_TRACEBACKS = 5;

/**
 * Turns classified output into engine events for one run, and remembers what a failure
 * report needs (recent lines, tracebacks).
 *
 * - `@chorus` events pass through as they are; a malformed one becomes a warning.
 * - tqdm bars become progress of the current stage (monotonic per bar over the whole run,
 *   redraws dropped), unless the command already reports progress with @chorus in this
 *   stage: the explicit protocol wins, so the two never fight over the bar.
 * - A command that declares no stages gets `synthesis` at its first progress (or at exit)
 *   and `encoding` once it has exited, so the UI still shows where the job is.
 */
export class CommandEventMapper {
  private stage: string | undefined;
  private declared = false;
  private explicitProgress = false;
  private readonly tqdm = new TqdmTracker();
  private readonly recent: string[] = [];
  private readonly messages: string[] = [];
  private readonly tracebacks: string[] = [];

  constructor(private readonly emit: EngineEmit) {}

  get currentStage(): string | undefined {
    return this.stage;
  }

  /** Whether the command declared its own stages with @chorus. */
  get declaresStages(): boolean {
    return this.declared;
  }

  handle(item: OutputItem): void {
    switch (item.kind) {
      case 'chorus': {
        const event = item.event;
        if (event.type === 'stage') {
          this.declared = true;
          this.enterStage(event.name);
          return;
        }
        if (event.type === 'progress') {
          this.ensureStage();
          this.explicitProgress = true;
          this.emit(event);
          return;
        }
        this.remember(event.message);
        this.emit(event);
        return;
      }
      case 'chorus-invalid': {
        const message = `Ignored a malformed @chorus line (${item.reason}): ${item.line}`;
        this.remember(item.line);
        this.emit({ type: 'log', level: 'warn', message });
        return;
      }
      case 'tqdm': {
        // Tracked even when not shown, so a late redraw (stderr and stdout are separate
        // pipes; a bar's last redraw may be read after the next stage began) stays dropped.
        const bar = this.tqdm.accept(item.bar);
        if (!bar || this.explicitProgress) return;
        this.ensureStage();
        this.emit({ type: 'progress', step: bar.step, total: bar.total, etaMs: bar.etaMs });
        return;
      }
      case 'log':
        this.remember(item.message);
        this.emit({ type: 'log', level: item.level, message: item.message });
        return;
      case 'traceback':
        this.tracebacks.push(item.text);
        if (this.tracebacks.length > DIAGNOSTIC_TRACEBACKS) this.tracebacks.shift();
        this.remember(item.text);
        this.emit({ type: 'log', level: 'error', message: item.text });
        return;
    }
  }

  /** For a command without @chorus stages: show the implicit run stage if nothing did yet. */
  ensureStage(): void {
    if (this.stage === undefined) this.enterStage(IMPLICIT_RUN_STAGE);
  }

  /** After a successful exit: a command without its own stages gets the implicit finishing stage. */
  finish(): void {
    if (this.declared) return;
    this.ensureStage();
    this.enterStage(IMPLICIT_FINISH_STAGE);
  }

  /** The last lines the command printed (tracebacks count by their lines), oldest first. */
  recentLines(): string[] {
    return [...this.recent];
  }

  /** The text failure classification looks at: the latest tracebacks and messages. */
  diagnosticText(): string {
    return [...this.tracebacks, ...this.messages].join('\n');
  }

  /** The exception line of the last traceback ("ValueError: …"), if there was one. */
  lastException(): string | undefined {
    const last = this.tracebacks.at(-1);
    if (!last) return undefined;
    return last
      .split('\n')
      .filter((l) => l.trim() !== '')
      .at(-1)
      ?.trim();
  }

  private enterStage(name: string): void {
    this.stage = name;
    this.explicitProgress = false;
    this.emit({ type: 'stage', name });
  }

  private remember(message: string): void {
    this.messages.push(message);
    if (this.messages.length > DIAGNOSTIC_MESSAGES) this.messages.shift();
    for (const line of message.split('\n')) this.recent.push(line);
    if (this.recent.length > RECENT_LINES) this.recent.splice(0, this.recent.length - RECENT_LINES);
  }
}
