import { describe, expect, it } from 'vitest';
import { LoginThrottle, type ThrottleLimits } from '../src/auth/login-throttle.ts';

const LIMITS: ThrottleLimits = { windowMs: 60_000, perAccount: 3, perAddress: 5 };

/** A throttle on a clock the test moves by hand. */
function throttleAt(start = 1_000_000, maxKeys?: number): { throttle: LoginThrottle; advance(ms: number): void } {
  let now = start;
  return { throttle: new LoginThrottle(LIMITS, () => now, maxKeys), advance: (ms) => void (now += ms) };
}

describe('LoginThrottle', () => {
  it('counts an attempt from the moment it is reserved, so parallel checks cannot exceed the limit', () => {
    const { throttle } = throttleAt();
    // All reserved before any password check has finished, as 30 parallel requests would be.
    const reservations = Array.from({ length: 30 }, () => throttle.reserve('a@x.test', '10.0.0.1'));
    expect(reservations.filter((r) => r.ok)).toHaveLength(LIMITS.perAccount);
    const refused = reservations.find((r) => !r.ok);
    expect(refused && !refused.ok && refused.retryAfterMs).toBe(LIMITS.windowMs);
  });

  it('limits an address across accounts, and per-account-only reservations leave the address alone', () => {
    const { throttle } = throttleAt();
    const results = Array.from({ length: 8 }, (_, i) => throttle.reserve(`u${i}@x.test`, '10.0.0.2').ok);
    expect(results.filter(Boolean)).toHaveLength(LIMITS.perAddress);
    expect(throttle.reserve('other@x.test', null).ok).toBe(true);
    expect(throttle.retryAfterMs('new@x.test', '10.0.0.2')).toBeGreaterThan(0);
    expect(throttle.retryAfterMs('new@x.test', '10.0.0.3')).toBe(0);
  });

  it('forgets a success (and the account’s settled failures) but keeps failures and attempts still in flight', () => {
    const { throttle } = throttleAt();
    const first = throttle.reserve('a@x.test', '10.0.0.4');
    if (!first.ok) throw new Error('first attempt refused');
    first.failed();
    const inFlight = throttle.reserve('a@x.test', '10.0.0.4');
    const right = throttle.reserve('a@x.test', '10.0.0.4');
    if (!inFlight.ok || !right.ok) throw new Error('attempt refused');
    expect(throttle.reserve('a@x.test', '10.0.0.4').ok).toBe(false);
    right.succeeded();
    // The failure is forgotten, the attempt in flight still counts: two slots left of three.
    expect(throttle.reserve('a@x.test', '10.0.0.4').ok).toBe(true);
    expect(throttle.reserve('a@x.test', '10.0.0.4').ok).toBe(true);
    expect(throttle.reserve('a@x.test', '10.0.0.4').ok).toBe(false);
    // Reporting twice changes nothing.
    right.succeeded();
    right.failed();
    expect(throttle.reserve('a@x.test', '10.0.0.4').ok).toBe(false);
  });

  it('allows attempts again once the window has passed', () => {
    const { throttle, advance } = throttleAt();
    for (let i = 0; i < LIMITS.perAccount; i++) {
      const r = throttle.reserve('a@x.test', null);
      if (r.ok) r.failed();
    }
    expect(throttle.retryAfterMs('a@x.test', null)).toBe(LIMITS.windowMs);
    advance(LIMITS.windowMs - 1);
    expect(throttle.reserve('a@x.test', null).ok).toBe(false);
    advance(1);
    expect(throttle.reserve('a@x.test', null).ok).toBe(true);
  });

  it('never remembers more than its cap of keys under a spray of distinct emails and addresses', () => {
    const { throttle, advance } = throttleAt(1_000_000, 1000);
    for (let i = 0; i < 20_000; i++) {
      const r = throttle.reserve(`spray${i}@x.test`, `10.1.${i >> 8}.${i & 255}`);
      if (r.ok) r.failed();
      expect(throttle.size).toBeLessThanOrEqual(1000);
      if (i % 1000 === 0) advance(1000);
    }
    // The newest keys survive the trimming (the stalest go first), so a live attacker stays limited.
    for (let i = 0; i < LIMITS.perAccount - 1; i++) {
      const r = throttle.reserve('spray19999@x.test', null);
      if (r.ok) r.failed();
    }
    expect(throttle.reserve('spray19999@x.test', null).ok).toBe(false);
  });

  it('when over the cap drops expired keys first, then the least recently used, down to 90 %', () => {
    const { throttle, advance } = throttleAt(1_000_000, 10);
    const failTimes = (email: string): void => {
      for (let i = 0; i < LIMITS.perAccount; i++) {
        const r = throttle.reserve(email, null);
        if (r.ok) r.failed();
      }
    };
    failTimes('expired@x.test');
    advance(LIMITS.windowMs + 1);
    for (let i = 0; i < 10; i++) failTimes(`live${i}@x.test`);
    // The 11th key trimmed the map to 9: the expired key, then the stalest live one.
    expect(throttle.size).toBe(9);
    expect(throttle.retryAfterMs('live0@x.test', null)).toBe(0);
    for (let i = 1; i < 10; i++) expect(throttle.retryAfterMs(`live${i}@x.test`, null)).toBeGreaterThan(0);
  });
});
