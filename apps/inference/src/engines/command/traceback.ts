const TRACEBACK_START = /^Traceback \(most recent call last\):\s*$/;
/** Lines that chain one traceback to the next (`raise … from …`, an error while handling another). */
const CHAIN = /^(During handling of the above exception, another exception occurred:|The above exception was the direct cause of the following exception:)\s*$/;
const HEAD_LINES = 40;
const TAIL_LINES = 160;

export interface TracebackStep {
  /** Complete traceback blocks (each one multi-line string). */
  blocks: string[];
  /** Lines that are not part of a traceback, to be handled as ordinary output, in order. */
  lines: string[];
}

/**
 * Collects Python tracebacks from a stderr line stream: from `Traceback (most recent call
 * last):` over the indented frames to the exception line (`SomeError: message`) that
 * follows them, as one block. A chained traceback (`During handling of the above
 * exception…`) joins the same block, so the collector holds a finished block until the
 * next line shows whether a chain follows; flush() releases it (end of stream, or quiet).
 */
export class TracebackCollector {
  private state: 'idle' | 'frames' | 'after' | 'chain' = 'idle';
  private head: string[] = [];
  private tail: string[] = [];
  private omitted = 0;
  private blanks: string[] = [];

  push(line: string): TracebackStep {
    const step: TracebackStep = { blocks: [], lines: [] };
    this.feed(line, step);
    return step;
  }

  /** Whether a block is held (a traceback in progress or waiting for a possible chain). */
  get pending(): boolean {
    return this.state !== 'idle';
  }

  /** Release the held block, if any, even if it is incomplete. */
  flush(): string[] {
    if (this.state === 'idle') return [];
    const block = this.take();
    return [block];
  }

  private feed(line: string, step: TracebackStep): void {
    switch (this.state) {
      case 'idle':
        if (TRACEBACK_START.test(line)) {
          this.add(line);
          this.state = 'frames';
        } else {
          step.lines.push(line);
        }
        return;
      case 'frames':
        this.add(line);
        // Frames and source lines are indented; the first line that is not ends the block.
        if (line.trim() !== '' && !/^\s/.test(line) && !TRACEBACK_START.test(line)) this.state = 'after';
        return;
      case 'after':
      case 'chain':
        if (line.trim() === '') {
          this.blanks.push(line);
          return;
        }
        if (this.state === 'after' && CHAIN.test(line)) {
          this.addBlanks();
          this.add(line);
          this.state = 'chain';
          return;
        }
        if (this.state === 'chain' && TRACEBACK_START.test(line)) {
          this.addBlanks();
          this.add(line);
          this.state = 'frames';
          return;
        }
        step.blocks.push(this.take());
        this.feed(line, step);
        return;
    }
  }

  private addBlanks(): void {
    for (const b of this.blanks) this.add(b);
    this.blanks = [];
  }

  private add(line: string): void {
    if (this.head.length < HEAD_LINES) {
      this.head.push(line);
      return;
    }
    this.tail.push(line);
    if (this.tail.length > TAIL_LINES) {
      this.tail.shift();
      this.omitted++;
    }
  }

  private take(): string {
    const lines = this.omitted > 0 ? [...this.head, `  … ${this.omitted} lines omitted …`, ...this.tail] : [...this.head, ...this.tail];
    this.head = [];
    this.tail = [];
    this.omitted = 0;
    this.blanks = [];
    this.state = 'idle';
    return lines.join('\n');
  }
}
