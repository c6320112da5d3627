/**
 * Deterministic randomness from the job's uint32 seed. Each purpose draws from its own
 * stream (seed mixed with a label), so adding a draw for one purpose never shifts the
 * values another purpose gets.
 */
export interface SeededRandom {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [min, max). */
  uniform(min: number, max: number): number;
}

/** FNV-1a over the label's UTF-16 code units. */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** splitmix32 finaliser: spreads nearby seeds (1, 2, 3 …) into unrelated states. */
function mix(x: number): number {
  x = Math.imul((x ^ (x >>> 16)) >>> 0, 0x21f0aaad) >>> 0;
  x = Math.imul((x ^ (x >>> 15)) >>> 0, 0x735a2d97) >>> 0;
  return (x ^ (x >>> 15)) >>> 0;
}

/** mulberry32, seeded from (seed, label). */
export function seededRandom(seed: number, label: string): SeededRandom {
  let state = mix((seed >>> 0) ^ hashLabel(label));
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, uniform: (min, max) => min + (max - min) * next() };
}
