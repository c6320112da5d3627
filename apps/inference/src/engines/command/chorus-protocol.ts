import { z } from 'zod';
import { logLevelSchema } from '@chorus/api/schemas';
import type { EngineEvent } from '../../engine/engine.ts';

/**
 * The explicit line protocol a command may speak on stdout (or stderr): a line
 *
 *   @chorus {"type":"stage","name":"synthesis"}
 *   @chorus {"type":"progress","step":3,"total":8,"eta_ms":4200}
 *   @chorus {"type":"log","level":"warn","message":"…"}
 *
 * becomes exactly that engine event. apps/inference/runners/README.md documents it.
 */
export const CHORUS_LINE_PREFIX = '@chorus ';

const chorusEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('stage'), name: z.string().min(1).max(64) }),
  z
    .object({
      type: z.literal('progress'),
      step: z.number().min(0),
      total: z.number().positive(),
      eta_ms: z.number().min(0).nullable().optional(),
    })
    .refine((p) => p.step <= p.total, { message: 'step must not exceed total' }),
  z.object({ type: z.literal('log'), level: logLevelSchema, message: z.string() }),
]);

export type ChorusLine = { ok: true; event: EngineEvent } | { ok: false; reason: string };

export const isChorusLine = (line: string): boolean => line.startsWith(CHORUS_LINE_PREFIX) || line.trimEnd() === CHORUS_LINE_PREFIX.trim();

/** Parse a line that starts with the @chorus prefix (see isChorusLine). */
export function parseChorusLine(line: string): ChorusLine {
  const json = line.slice(CHORUS_LINE_PREFIX.length).trim();
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (err) {
    return { ok: false, reason: `not JSON (${(err as Error).message})` };
  }
  const parsed = chorusEventSchema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ') };
  }
  const e = parsed.data;
  switch (e.type) {
    case 'stage':
      return { ok: true, event: { type: 'stage', name: e.name } };
    case 'progress':
      return { ok: true, event: { type: 'progress', step: e.step, total: e.total, etaMs: e.eta_ms ?? null } };
    case 'log':
      return { ok: true, event: { type: 'log', level: e.level, message: e.message } };
  }
}
