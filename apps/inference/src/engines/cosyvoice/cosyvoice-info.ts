import type { EngineInfo, EngineStage, JobMode } from '@chorus/api/schemas';
import type { CosyVoiceEngineConfig } from '../config.ts';

/** What each CosyVoice generation can do (cosyvoice/cli/cosyvoice.py). */
function generationModes(config: CosyVoiceEngineConfig): JobMode[] {
  // inference_sft needs the model's own speakers; CosyVoice 1's instruct takes a speaker id,
  // not prompt audio, so Chorus's instruct mode (instruct2) starts with generation 2.
  const modes: JobMode[] = ['zero_shot', 'cross_lingual'];
  if (config.generation >= 2) modes.push('instruct');
  if (config.speakers.length > 0) modes.push('pretrained');
  return modes;
}

export const outputSampleRate = (config: CosyVoiceEngineConfig): number => config.sampleRate ?? (config.generation === 1 ? 22050 : 24000);

export interface CosyVoiceInfoOptions {
  kind: CosyVoiceEngineConfig['kind'];
  runtime: string;
  stages: EngineStage[];
  /** Modes this runtime exposes at all (e.g. Triton only has zero-shot). */
  runtimeModes: readonly JobMode[];
  /** Same inputs + seed give the same output with this runtime. */
  reproducible: boolean;
}

/** EngineInfo for a configured CosyVoice instance; throws if the config asks for a mode it cannot offer. */
export function cosyVoiceEngineInfo(config: CosyVoiceEngineConfig, options: CosyVoiceInfoOptions): EngineInfo {
  const supported = generationModes(config).filter((m) => options.runtimeModes.includes(m));
  const modes = config.modes ?? supported;
  const unsupported = modes.filter((m) => !supported.includes(m));
  if (unsupported.length > 0) {
    throw new Error(
      `Engine "${config.id}": mode(s) ${unsupported.join(', ')} are not available with CosyVoice ${config.generation} over ${options.runtime}` +
        ` (available: ${supported.join(', ') || 'none'}${config.speakers.length === 0 ? '; pretrained needs configured speakers' : ''}).`,
    );
  }
  return {
    id: config.id,
    kind: options.kind,
    // The model name is the version beside it in lists; the name says what and how.
    name: config.name ?? `CosyVoice ${config.generation} (${options.kind})`,
    version: config.model,
    description:
      `CosyVoice ${config.generation} (${config.model}) through ${options.runtime}.` +
      (options.reproducible ? ' Runs are seeded and non-streaming, so a re-run with the same seed should give the same audio.' : ' This runtime takes no seed: re-runs are not bit-exact.'),
    default: config.default,
    modes,
    speakers: config.speakers.map((s) => ({ id: s.id, name: s.name, language: s.language })),
    stages: options.stages,
    limits: {
      maxTextChars: config.maxTextChars,
      promptMinMs: 1000,
      // CosyVoice's speech tokenizer refuses prompts over 30 s.
      promptMaxMs: 30_000,
      promptMinSampleRate: 16_000,
      promptPreferredSampleRate: 16_000,
      speedMin: 0.5,
      speedMax: 2.0,
    },
    reproducible: options.reproducible,
    outputSampleRate: outputSampleRate(config),
    instructVocabulary: [],
  };
}

/** CosyVoice3 needs <|endofprompt|> in the prompt text or instruction (cosyvoice/llm/llm.py). */
export const END_OF_PROMPT = '<|endofprompt|>';
const SYSTEM_PROMPT = 'You are a helpful assistant.';

/** The zero-shot prompt text as the generation expects it. */
export function cosyVoicePromptText(generation: 1 | 2 | 3, transcript: string): string {
  if (generation < 3 || transcript.includes(END_OF_PROMPT)) return transcript;
  return `${SYSTEM_PROMPT}${END_OF_PROMPT}${transcript}`;
}

/** The instruction as the generation expects it (CosyVoice 2 also ends it with the marker). */
export function cosyVoiceInstruction(generation: 1 | 2 | 3, instruct: string): string {
  if (instruct.includes(END_OF_PROMPT)) return instruct;
  return generation >= 3 ? `${SYSTEM_PROMPT} ${instruct}${END_OF_PROMPT}` : `${instruct}${END_OF_PROMPT}`;
}

/** Cross-lingual text: CosyVoice3 wants the system prompt and marker in front of the text. */
export function cosyVoiceCrossLingualText(generation: 1 | 2 | 3, text: string): string {
  if (generation < 3 || text.includes(END_OF_PROMPT)) return text;
  return `${SYSTEM_PROMPT}${END_OF_PROMPT}${text}`;
}
