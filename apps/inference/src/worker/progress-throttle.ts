/**
 * Coalesces progress reports: at most one per `intervalMs`, always keeping the newest, and
 * never dropping the final step. Only progress is coalesced; other events pass untouched.
 */
export class ProgressThrottle<T extends { step: number; total: number }> {
  private lastSentAt = 0;
  private held: T | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly intervalMs: number,
    private readonly send: (progress: T) => void,
  ) {}

  push(progress: T): void {
    const now = Date.now();
    if (progress.step >= progress.total || now - this.lastSentAt >= this.intervalMs) {
      this.clear();
      this.lastSentAt = now;
      this.send(progress);
      return;
    }
    this.held = progress;
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs - (now - this.lastSentAt));
  }

  /** Send what is held (call before any other event so order is preserved). */
  flush(): void {
    const held = this.held;
    this.clear();
    if (held) {
      this.lastSentAt = Date.now();
      this.send(held);
    }
  }

  private clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.held = null;
  }
}
