import { describe, expect, it } from 'vitest';
import { LoginThrottle, type ThrottleLimits } from '../src/auth/login-throttle.ts';

const LIMITS: ThrottleLimits = { windowMs: 60_000, perAccountPerAddress: 3, perAccount: 10, perAddress: 5 };

/** A throttle on a clock the test moves by hand. */
function throttleAt(start = 1_000_000, maxKeys?: number): { throttle: LoginThrottle; advance(ms: number): void } {
  let now = start;
  return { throttle: new LoginThrottle(LIMITS, () => now, maxKeys), advance: (ms) => void (now += ms) };
}

/** Reserve and report a wrong password `times` times; how many were let through. */
function fail(throttle: LoginThrottle, email: string, address: string, times: number, purpose: 'sign-in' | 'reauth' = 'sign-in'): number {
  let checked = 0;
  for (let i = 0; i < times; i++) {
    const r = throttle.reserve(email, address, purpose);
    if (r.ok) {
      checked++;
      r.failed();
    }
  }
  return checked;
}

describe('LoginThrottle', () => {
  it('counts an attempt from the moment it is reserved, so parallel checks cannot exceed the limit', () => {
    const { throttle } = throttleAt();
    // All reserved before any password check has finished, as 30 parallel requests would be.
    const reservations = Array.from({ length: 30 }, () => throttle.reserve('a@x.test', '10.0.0.1'));
    expect(reservations.filter((r) => r.ok)).toHaveLength(LIMITS.perAccountPerAddress);
    const refused = reservations.find((r) => !r.ok);
    expect(refused && !refused.ok && refused.retryAfterMs).toBe(LIMITS.windowMs);
  });

  it('failures from one address lock that address out of the account, not the owner at another address', () => {
    const { throttle } = throttleAt();
    expect(fail(throttle, 'admin@x.test', '10.0.0.66', 30)).toBe(LIMITS.perAccountPerAddress);
    expect(throttle.reserve('admin@x.test', '10.0.0.66').ok).toBe(false);
    const owner = throttle.reserve('admin@x.test', '10.0.0.7');
    expect(owner.ok).toBe(true);
    // The owner's success does not lift the attacker's lock.
    if (owner.ok) owner.succeeded();
    expect(throttle.retryAfterMs('admin@x.test', '10.0.0.66')).toBeGreaterThan(0);
  });

  it('keeps an account-wide cap over all addresses, so a distributed brute force still stops', () => {
    const { throttle } = throttleAt();
    // Just under the per-address limit from each of many addresses.
    let checked = 0;
    for (let i = 0; i < 8; i++) checked += fail(throttle, 'target@x.test', `10.2.0.${i}`, LIMITS.perAccountPerAddress - 1);
    expect(checked).toBe(LIMITS.perAccount);
    expect(throttle.reserve('target@x.test', '10.2.1.1').ok).toBe(false);
    expect(throttle.retryAfterMs('target@x.test', '10.2.1.2')).toBeGreaterThan(0);
    expect(throttle.retryAfterMs('other@x.test', '10.2.1.2')).toBe(0);
  });

  it('limits an address across accounts', () => {
    const { throttle } = throttleAt();
    const results = Array.from({ length: 8 }, (_, i) => throttle.reserve(`u${i}@x.test`, '10.0.0.2').ok);
    expect(results.filter(Boolean)).toHaveLength(LIMITS.perAddress);
    expect(throttle.retryAfterMs('new@x.test', '10.0.0.2')).toBeGreaterThan(0);
    expect(throttle.retryAfterMs('new@x.test', '10.0.0.3')).toBe(0);
  });

  it('re-authentication (signed in) has keys of its own: strangers’ failed sign-ins do not block it, and it is limited per account and address', () => {
    const { throttle } = throttleAt();
    // Strangers fail the account's sign-in from many addresses until the account-wide cap trips.
    for (let i = 0; i < 10; i++) fail(throttle, 'me@x.test', `10.3.0.${i}`, LIMITS.perAccountPerAddress);
    expect(throttle.retryAfterMs('me@x.test', '10.3.9.9')).toBeGreaterThan(0);
    // Even from one of those addresses, the signed-in owner may still re-enter the password.
    expect(throttle.retryAfterMs('me@x.test', '10.3.0.1', 'reauth')).toBe(0);
    expect(fail(throttle, 'me@x.test', '10.3.0.1', 10, 'reauth')).toBe(LIMITS.perAccountPerAddress);
    expect(throttle.reserve('me@x.test', '10.3.0.1', 'reauth').ok).toBe(false);
    // A stolen session moving between addresses meets the account-wide cap.
    let checked = LIMITS.perAccountPerAddress;
    for (let i = 0; i < 10; i++) checked += fail(throttle, 'me@x.test', `10.4.0.${i}`, LIMITS.perAccountPerAddress, 'reauth');
    expect(checked).toBe(LIMITS.perAccount);
    // Re-authentication failures do not count against sign-in from a fresh address.
    expect(throttle.retryAfterMs('you@x.test', '10.4.0.1')).toBe(0);
  });

  it('forgets a success (and this address’s failures for the account) but keeps failures and attempts still in flight', () => {
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
    fail(throttle, 'a@x.test', '10.0.0.5', LIMITS.perAccountPerAddress);
    expect(throttle.retryAfterMs('a@x.test', '10.0.0.5')).toBe(LIMITS.windowMs);
    advance(LIMITS.windowMs - 1);
    expect(throttle.reserve('a@x.test', '10.0.0.5').ok).toBe(false);
    advance(1);
    expect(throttle.reserve('a@x.test', '10.0.0.5').ok).toBe(true);
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
    const last = `10.1.${19_999 >> 8}.${19_999 & 255}`;
    fail(throttle, 'spray19999@x.test', last, LIMITS.perAccountPerAddress - 1);
    expect(throttle.reserve('spray19999@x.test', last).ok).toBe(false);
  });

  it('when over the cap drops expired keys first, then the least recently used, down to 90 %', () => {
    // Re-authentication uses two keys per account (account × address, account).
    const { throttle, advance } = throttleAt(1_000_000, 20);
    fail(throttle, 'expired@x.test', '10.0.0.9', LIMITS.perAccountPerAddress, 'reauth');
    advance(LIMITS.windowMs + 1);
    for (let i = 0; i < 10; i++) fail(throttle, `live${i}@x.test`, '10.0.0.9', LIMITS.perAccountPerAddress, 'reauth');
    // The 11th account's keys trimmed the map to 18: the expired account's two, then the stalest live one's.
    expect(throttle.size).toBe(18);
    expect(throttle.retryAfterMs('live0@x.test', '10.0.0.9', 'reauth')).toBe(0);
    for (let i = 1; i < 10; i++) expect(throttle.retryAfterMs(`live${i}@x.test`, '10.0.0.9', 'reauth')).toBeGreaterThan(0);
  });
});
