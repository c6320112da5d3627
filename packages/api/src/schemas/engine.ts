import { z } from 'zod';
import { jobModeSchema } from './common.ts';

export const engineSpeakerSchema = z.object({
  id: z.string(),
  name: z.string(),
  language: z.string(),
  description: z.string().optional(),
});
export type EngineSpeaker = z.infer<typeof engineSpeakerSchema>;

export const engineLimitsSchema = z.object({
  maxTextChars: z.number().int().positive(),
  promptMinMs: z.number().int().positive(),
  promptMaxMs: z.number().int().positive(),
  promptMinSampleRate: z.number().int().positive(),
  /** Below this the engine still works, but a warning is logged. */
  promptPreferredSampleRate: z.number().int().positive(),
  speedMin: z.number(),
  speedMax: z.number(),
});
export type EngineLimits = z.infer<typeof engineLimitsSchema>;

export const engineStageSchema = z.object({ name: z.string(), label: z.string() });
export type EngineStage = z.infer<typeof engineStageSchema>;

export const engineInfoSchema = z.object({
  id: z.string(),
  kind: z.string(),
  name: z.string(),
  version: z.string(),
  description: z.string(),
  default: z.boolean(),
  modes: z.array(jobModeSchema),
  speakers: z.array(engineSpeakerSchema),
  stages: z.array(engineStageSchema),
  limits: engineLimitsSchema,
  /** Same inputs + seed + version give byte-identical output. */
  reproducible: z.boolean(),
  outputSampleRate: z.number().int().positive(),
  /** Style words the engine understands in `instruct` mode (for UI hints). */
  instructVocabulary: z.array(z.string()),
});
export type EngineInfo = z.infer<typeof engineInfoSchema>;

export const ENGINE_KINDS = ['builtin', 'command', 'cosyvoice-http', 'cosyvoice-triton'] as const;
export const engineKindSchema = z.enum(ENGINE_KINDS);
export type EngineKind = z.infer<typeof engineKindSchema>;

/** Live reachability of an engine, from the registry's periodic probe. */
export const engineHealthSchema = z.object({
  status: z.enum(['up', 'down', 'unknown']),
  /** Why it is down (or what the last probe said). */
  message: z.string().nullable(),
  checkedAt: z.string().nullable(),
});
export type EngineHealth = z.infer<typeof engineHealthSchema>;

/** Standalone workers that registered an engine and still send heartbeats (stale and stopped ones do not count). */
export const remoteEngineWorkersSchema = z.object({
  /** Workers online with this engine. */
  online: z.number().int().nonnegative(),
  /** Of those, how many report it up. */
  up: z.number().int().nonnegative(),
  /** Jobs they can run at once, summed. */
  concurrency: z.number().int().nonnegative(),
});
export type RemoteEngineWorkers = z.infer<typeof remoteEngineWorkersSchema>;

/** engine.list item: the static description plus live health (this server's) and the standalone workers that run it. */
export const engineStatusSchema = engineInfoSchema.extend({ health: engineHealthSchema, remoteWorkers: remoteEngineWorkersSchema });
export type EngineStatus = z.infer<typeof engineStatusSchema>;
