import { SEED_MAX, SEED_MIN } from '@chorus/api/schemas';

/** A uniformly random uint32 from the browser's CSPRNG. */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] ?? 0;
}

export type SeedParse = { ok: true; seed: number | undefined } | { ok: false; message: string };

/** Empty → undefined (the server draws one); otherwise an integer in the uint32 range. */
export function parseSeed(raw: string): SeedParse {
  const trimmed = raw.trim();
  if (trimmed === '') return { ok: true, seed: undefined };
  if (!/^\d+$/.test(trimmed)) return { ok: false, message: `Seed must be a whole number from ${SEED_MIN} to ${SEED_MAX}.` };
  const seed = Number(trimmed);
  if (seed < SEED_MIN || seed > SEED_MAX) return { ok: false, message: `Seed must be from ${SEED_MIN} to ${SEED_MAX}.` };
  return { ok: true, seed };
}
