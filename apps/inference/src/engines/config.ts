import fs from 'node:fs';
import { z } from 'zod';
import { JOB_MODES } from '@chorus/api/schemas';

/**
 * Engines are configured, not coded: a JSON array of engine instances, from the file named
 * by CHORUS_ENGINES_FILE or inline in CHORUS_ENGINES. docs/engines.md documents every field.
 */

const id = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'Engine id must be 1–64 characters of a–z, 0–9, ".", "_" or "-", starting with a letter or digit.');

const speaker = z.object({ id: z.string().min(1), name: z.string().min(1), language: z.string().default('zh') });

const common = {
  id,
  /** Shown in the UI; defaults from the kind and model. */
  name: z.string().optional(),
  /** The engine used when a job names none. At most one may say true; otherwise the first. */
  default: z.boolean().default(false),
  /** Jobs this engine runs at once. */
  concurrency: z.number().int().min(1).max(64).default(1),
};

/** The CosyVoice model generation decides modes, output rate and the <|endofprompt|> rule. */
const cosyVoiceModel = {
  generation: z.union([z.literal(1), z.literal(2), z.literal(3)]),
  /** Model name/version recorded on every job, e.g. "Fun-CosyVoice3-0.5B". */
  model: z.string().min(1),
  /** Output rate: 22050 for CosyVoice 1, 24000 for 2 and 3 (the HTTP runtime does not say). */
  sampleRate: z.number().int().positive().optional(),
  /** Pretrained speakers (the runtimes have no speaker-list endpoint). */
  speakers: z.array(speaker).default([]),
  /** Restrict the modes offered; defaults from the generation and the runtime. */
  modes: z.array(z.enum(JOB_MODES)).min(1).optional(),
  maxTextChars: z.number().int().positive().default(2000),
  /** A job running longer than this fails with ENGINE_TIMEOUT. */
  timeoutMs: z.number().int().positive().default(10 * 60_000),
};

export const builtinEngineConfigSchema = z.object({ ...common, kind: z.literal('builtin') });

export const commandEngineConfigSchema = z.object({
  ...common,
  ...cosyVoiceModel,
  kind: z.literal('command'),
  /** argv of the inference program; it gets the job as JSON on stdin. */
  command: z.array(z.string().min(1)).min(1, 'command must name the program to run, e.g. ["python3", "runner.py"].'),
  cwd: z.string().optional(),
  env: z.record(z.string(), z.string()).default({}),
  /** After SIGTERM on cancel/timeout, wait this long before SIGKILL. */
  killGraceMs: z.number().int().min(0).default(5000),
});

export const cosyVoiceHttpEngineConfigSchema = z.object({
  ...common,
  ...cosyVoiceModel,
  kind: z.literal('cosyvoice-http'),
  /** Base URL of runtime/python/fastapi/server.py, e.g. http://gpu1:50000 */
  url: z.url(),
  /** No audio bytes for this long mid-stream ends the job with ENGINE_STALLED. */
  stallTimeoutMs: z.number().int().positive().default(60_000),
});

export const cosyVoiceTritonEngineConfigSchema = z.object({
  ...common,
  ...cosyVoiceModel,
  kind: z.literal('cosyvoice-triton'),
  /** Base URL of Triton's HTTP endpoint, e.g. http://gpu2:8000 */
  url: z.url(),
  /** Triton model to call: POST /v2/models/{tritonModel}/infer */
  tritonModel: z.string().min(1).default('cosyvoice2'),
});

export const engineConfigSchema = z.discriminatedUnion('kind', [
  builtinEngineConfigSchema,
  commandEngineConfigSchema,
  cosyVoiceHttpEngineConfigSchema,
  cosyVoiceTritonEngineConfigSchema,
]);

export const engineConfigListSchema = z
  .array(engineConfigSchema)
  .min(1, 'Configure at least one engine.')
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    for (const [i, e] of list.entries()) {
      if (seen.has(e.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `Engine id "${e.id}" is used twice.` });
      seen.add(e.id);
    }
    if (list.filter((e) => e.default).length > 1) ctx.addIssue({ code: 'custom', message: 'At most one engine may be the default.' });
  });

export type EngineConfig = z.infer<typeof engineConfigSchema>;
export type BuiltinEngineConfig = z.infer<typeof builtinEngineConfigSchema>;
export type CommandEngineConfig = z.infer<typeof commandEngineConfigSchema>;
export type CosyVoiceHttpEngineConfig = z.infer<typeof cosyVoiceHttpEngineConfigSchema>;
export type CosyVoiceTritonEngineConfig = z.infer<typeof cosyVoiceTritonEngineConfigSchema>;
export type CosyVoiceEngineConfig = CommandEngineConfig | CosyVoiceHttpEngineConfig | CosyVoiceTritonEngineConfig;

/** Without configuration Chorus runs the built-in engine only. */
const DEFAULT_ENGINES = [{ id: 'builtin', kind: 'builtin' }];

/** Read and validate the engine list from CHORUS_ENGINES_FILE or CHORUS_ENGINES. */
export function loadEngineConfigs(env: NodeJS.ProcessEnv = process.env): EngineConfig[] {
  let raw: unknown = DEFAULT_ENGINES;
  let source = 'the default';
  if (env.CHORUS_ENGINES_FILE) {
    source = env.CHORUS_ENGINES_FILE;
    let text: string;
    try {
      text = fs.readFileSync(env.CHORUS_ENGINES_FILE, 'utf8');
    } catch (err) {
      throw new Error(`CHORUS_ENGINES_FILE: cannot read ${env.CHORUS_ENGINES_FILE}: ${(err as Error).message}`);
    }
    raw = parseJson(text, source);
  } else if (env.CHORUS_ENGINES) {
    source = 'CHORUS_ENGINES';
    raw = parseJson(env.CHORUS_ENGINES, source);
  }
  const parsed = engineConfigListSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.length ? `[${i.path.join('.')}] ` : ''}${i.message}`).join('; ');
    throw new Error(`Invalid engine configuration in ${source}: ${problems}`);
  }
  return parsed.data;
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`Engine configuration in ${source} is not valid JSON: ${(err as Error).message}`);
  }
}
