/**
 * Failed-password limits over a sliding window. In memory: one process in the embedded
 * default (scale-out keeps the same interface over Redis).
 *
 * Sign-in counts three keys: the account from this address (the strict limit: a stranger
 * elsewhere cannot lock the owner out), the account from all addresses (a much higher cap
 * that still stops a distributed brute force) and the address over all accounts. A signed-in
 * re-check of the password (changing it, creating an API token) counts on keys of its own,
 * per account and address and per account, so strangers' failed sign-ins never block it.
 *
 * An attempt is reserved (counted as a failure) before the slow password check and forgotten
 * only if it succeeds, so parallel attempts cannot all pass the limit before any is recorded.
 */
export interface ThrottleLimits {
  windowMs: number;
  /** Failures for one account from one client address. */
  perAccountPerAddress: number;
  /** Failures for one account from all addresses together. */
  perAccount: number;
  /** Failed sign-ins from one address over all accounts. */
  perAddress: number;
}

export const DEFAULT_THROTTLE: ThrottleLimits = { windowMs: 15 * 60_000, perAccountPerAddress: 5, perAccount: 100, perAddress: 20 };

/** Keys (account × address, account, address) remembered at most; a spray of distinct names cannot grow memory past it. */
export const DEFAULT_THROTTLE_MAX_KEYS = 100_000;

/** A sign-in, or a signed-in person re-entering their password (change password, new API token). */
export type ThrottlePurpose = 'sign-in' | 'reauth';

/** A reserved attempt: report how the password check went (only the first report counts). */
export interface ThrottleTicket {
  ok: true;
  /** The password was right: the attempt, and the failures from this address for this account, are forgotten. */
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

interface Key {
  key: string;
  max: number;
  /** A success forgets this key's settled failures (true) or only its own attempt (false). */
  clearedBySuccess: boolean;
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

  /** How many keys are remembered now. */
  get size(): number {
    return this.attempts.size;
  }

  /** Milliseconds until another attempt is allowed, or 0 when it is allowed now. */
  retryAfterMs(email: string, address: string, purpose: ThrottlePurpose = 'sign-in'): number {
    return Math.max(...this.keys(email, address, purpose).map(({ key, max }) => this.wait(key, max)));
  }

  /**
   * Take a slot for one password check, or say how long to wait. Synchronous, so two requests
   * in this process can never both take the last slot.
   */
  reserve(email: string, address: string, purpose: ThrottlePurpose = 'sign-in'): ThrottleReservation {
    const keys = this.keys(email, address, purpose);
    const wait = Math.max(...keys.map(({ key, max }) => this.wait(key, max)));
    if (wait > 0) return { ok: false, retryAfterMs: wait };
    const attempt: Attempt = { at: this.now(), pending: true };
    for (const { key } of keys) this.store(key, [...this.recent(key), attempt]);
    this.bound();
    let reported = false;
    return {
      ok: true,
      succeeded: () => {
        if (reported) return;
        reported = true;
        attempt.pending = false;
        for (const { key, clearedBySuccess } of keys) {
          // This address's failures for the account go, but not attempts still in flight (they may yet fail);
          // the account-wide and address-wide counts keep other addresses' and accounts' failures.
          this.update(key, (list) => list.filter(clearedBySuccess ? (a) => a.pending : (a) => a !== attempt));
        }
      },
      failed: () => {
        if (reported) return;
        reported = true;
        attempt.pending = false;
      },
    };
  }

  private keys(email: string, address: string, purpose: ThrottlePurpose): Key[] {
    const { perAccountPerAddress, perAccount, perAddress } = this.limits;
    if (purpose === 'reauth') {
      return [
        { key: `re:${email}|${address}`, max: perAccountPerAddress, clearedBySuccess: true },
        { key: `re:${email}`, max: perAccount, clearedBySuccess: false },
      ];
    }
    return [
      { key: `a:${email}|${address}`, max: perAccountPerAddress, clearedBySuccess: true },
      { key: `a:${email}`, max: perAccount, clearedBySuccess: false },
      { key: `ip:${address}`, max: perAddress, clearedBySuccess: false },
    ];
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
