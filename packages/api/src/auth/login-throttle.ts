/**
 * Failed-login limits, per account and per client address, over a sliding window. In memory:
 * one process in the embedded default (scale-out keeps the same interface over Redis).
 *
 * An attempt is reserved (counted as a failure) before the slow password check and forgotten
 * only if it succeeds, so parallel attempts cannot all pass the limit before any is recorded.
 */
export interface ThrottleLimits {
  windowMs: number;
  perAccount: number;
  perAddress: number;
}

export const DEFAULT_THROTTLE: ThrottleLimits = { windowMs: 15 * 60_000, perAccount: 5, perAddress: 20 };

/** Accounts + addresses remembered at most; a spray of distinct names cannot grow memory past it. */
export const DEFAULT_THROTTLE_MAX_KEYS = 100_000;

/** A reserved attempt: report how the password check went (only the first report counts). */
export interface ThrottleTicket {
  ok: true;
  /** The password was right: the attempt, and the account's settled failures, are forgotten. */
  succeeded(): void;
  /** The password was wrong: the attempt stays counted. */
  failed(): void;
}

export type ThrottleReservation = ThrottleTicket | { ok: false; retryAfterMs: number };

interface Attempt {
  at: number;
  /** Reserved and not yet reported: counts like a failure until then. */
  pending: boolean;
}

export class LoginThrottle {
  /** Map order is last-touched order (keys are re-inserted on every change), so the front is the stalest. */
  private readonly attempts = new Map<string, Attempt[]>();

  constructor(
    private readonly limits: ThrottleLimits = DEFAULT_THROTTLE,
    // Read through Date.now at each call, so a test that moves the clock moves the window too.
    private readonly now: () => number = () => Date.now(),
    private readonly maxKeys: number = DEFAULT_THROTTLE_MAX_KEYS,
  ) {}

  /** How many accounts and addresses are remembered now. */
  get size(): number {
    return this.attempts.size;
  }

  /** Milliseconds until another attempt is allowed, or 0 when it is allowed now. */
  retryAfterMs(email: string, address: string | null): number {
    return Math.max(...this.keys(email, address).map(([key, max]) => this.wait(key, max)));
  }

  /**
   * Take a slot for one password check, or say how long to wait. Synchronous, so two requests
   * in this process can never both take the last slot. `address` null: per-account only.
   */
  reserve(email: string, address: string | null): ThrottleReservation {
    const keys = this.keys(email, address);
    const wait = Math.max(...keys.map(([key, max]) => this.wait(key, max)));
    if (wait > 0) return { ok: false, retryAfterMs: wait };
    const attempt: Attempt = { at: this.now(), pending: true };
    for (const [key] of keys) this.store(key, [...this.recent(key), attempt]);
    this.bound();
    let reported = false;
    return {
      ok: true,
      succeeded: () => {
        if (reported) return;
        reported = true;
        attempt.pending = false;
        // The account's own failures are forgotten, but not attempts still in flight (they may yet fail).
        this.update(`a:${email}`, (list) => list.filter((a) => a.pending));
        if (address !== null) this.update(`ip:${address}`, (list) => list.filter((a) => a !== attempt));
      },
      failed: () => {
        if (reported) return;
        reported = true;
        attempt.pending = false;
      },
    };
  }

  private keys(email: string, address: string | null): [string, number][] {
    return [[`a:${email}`, this.limits.perAccount], ...(address !== null ? [[`ip:${address}`, this.limits.perAddress] as [string, number]] : [])];
  }

  private recent(key: string): Attempt[] {
    const since = this.now() - this.limits.windowMs;
    return (this.attempts.get(key) ?? []).filter((a) => a.at > since);
  }

  private store(key: string, list: Attempt[]): void {
    this.attempts.delete(key);
    if (list.length > 0) this.attempts.set(key, list);
  }

  private update(key: string, change: (list: Attempt[]) => Attempt[]): void {
    if (this.attempts.has(key)) this.store(key, change(this.recent(key)));
  }

  private wait(key: string, max: number): number {
    const list = this.recent(key);
    if (list.length < max) return 0;
    // Allowed again once the oldest attempt that counts falls out of the window.
    return list[list.length - max]!.at + this.limits.windowMs - this.now();
  }

  /** Over the cap: free a tenth of it, expired keys first, then the least recently touched. */
  private bound(): void {
    if (this.attempts.size <= this.maxKeys) return;
    const target = Math.floor(this.maxKeys * 0.9);
    for (const key of [...this.attempts.keys()]) if (this.recent(key).length === 0) this.attempts.delete(key);
    for (const key of this.attempts.keys()) {
      if (this.attempts.size <= target) break;
      this.attempts.delete(key);
    }
  }
}
