import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz'; // Crockford base32, lower case

let lastMs = 0;
let lastRandom = new Uint8Array(10);

/**
 * Time-sortable id (ULID layout: 48-bit ms time + 80 random bits, base32): ordering by id
 * is ordering by creation, so history pages by id alone. Monotonic within a millisecond.
 */
export type IdPrefix = 'job' | 'upl' | 'usr' | 'ses' | 'tok' | 'inv' | 'wtk' | 'wrk';

export function newId(prefix: IdPrefix): string {
  const now = Date.now();
  if (now <= lastMs) {
    // Same millisecond (or clock stepped back): increment the random part to stay sorted.
    for (let i = lastRandom.length - 1; i >= 0; i--) {
      lastRandom[i] = (lastRandom[i]! + 1) & 0xff;
      if (lastRandom[i] !== 0) break;
    }
  } else {
    lastMs = now;
    lastRandom = new Uint8Array(randomBytes(10));
  }
  let time = '';
  let t = lastMs;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  let bits = 0;
  let value = 0;
  let rand = '';
  for (const byte of lastRandom) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      rand += ALPHABET[(value >>> (bits - 5)) & 31]!;
      bits -= 5;
    }
  }
  return `${prefix}_${time}${rand}`;
}

/** The smallest id that could have been made at `ms`: ids compare like creation times. */
export function idLowerBoundAt(prefix: IdPrefix, ms: number): string {
  let time = '';
  let t = Math.max(0, Math.floor(ms));
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  return `${prefix}_${time}${'0'.repeat(16)}`;
}
