/**
 * Failed-login limits, per account and per client address, over a sliding window. In memory:
 * one process in the embedded default (scale-out keeps the same interface over Redis).
 */
export interface ThrottleLimits {
  windowMs: number;
  perAccount: number;
  perAddress: number;
}

export const DEFAULT_THROTTLE: ThrottleLimits = { windowMs: 15 * 60_000, perAccount: 5, perAddress: 20 };

export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limits: ThrottleLimits = DEFAULT_THROTTLE,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds until another attempt is allowed, or 0 when it is allowed now. */
  retryAfterMs(email: string, address: string): number {
    return Math.max(this.wait(`a:${email}`, this.limits.perAccount), this.wait(`ip:${address}`, this.limits.perAddress));
  }

  recordFailure(email: string, address: string): void {
    for (const key of [`a:${email}`, `ip:${address}`]) {
      const list = this.recent(key);
      list.push(this.now());
      this.failures.set(key, list);
    }
    if (this.failures.size > 100_000) this.prune();
  }

  /** A successful login forgets the account's failures (not the address's). */
  recordSuccess(email: string): void {
    this.failures.delete(`a:${email}`);
  }

  private recent(key: string): number[] {
    const since = this.now() - this.limits.windowMs;
    return (this.failures.get(key) ?? []).filter((t) => t > since);
  }

  private wait(key: string, max: number): number {
    const list = this.recent(key);
    if (list.length < max) return 0;
    // Allowed again once the oldest failure that counts falls out of the window.
    return list[list.length - max]! + this.limits.windowMs - this.now();
  }

  private prune(): void {
    for (const key of this.failures.keys()) if (this.recent(key).length === 0) this.failures.delete(key);
  }
}
