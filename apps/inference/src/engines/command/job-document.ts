import fs from 'node:fs/promises';
import path from 'node:path';
import type { JobMode } from '@chorus/api/schemas';
import { encodeWav16 } from '../../audio/wav.ts';
import type { EngineInput } from '../../engine/engine.ts';
import type { CommandEngineConfig } from '../config.ts';
import { outputSampleRate } from '../cosyvoice/cosyvoice-info.ts';

export const JOB_DOCUMENT_VERSION = 1;

/**
 * The job a `command` engine writes to the program's stdin as ONE JSON document (then
 * stdin is closed). apps/inference/runners/README.md documents it for runner authors.
 *
 * {
 *   "version": 1,
 *   "mode": "zero_shot" | "cross_lingual" | "instruct" | "pretrained",
 *   "text": "…",                      // as the user wrote it
 *   "prompt_wav": "/tmp/…/prompt.wav" | null, // 16-bit mono WAV at the upload's own rate
 *   "prompt_text": "…" | null,        // transcript of the prompt (zero_shot), as the user wrote it
 *   "instruct": "…" | null,           // style instruction (instruct), as the user wrote it
 *   "speaker_id": "…" | null,         // pretrained speaker (pretrained)
 *   "speed": 1.0,                     // 0.5–2.0
 *   "seed": 1234,                     // 0 … 2^32-1
 *   "output_wav": "/tmp/…/output.wav",// where the program must write its WAV
 *   "generation": 1 | 2 | 3,          // CosyVoice generation from the engine config
 *   "model": "Fun-CosyVoice3-0.5B",   // model name from the engine config
 *   "sample_rate": 24000              // the rate Chorus expects back (it resamples otherwise)
 * }
 *
 * Texts are sent verbatim: the CosyVoice `<|endofprompt|>` rule for the generation is
 * the runner's job (cosyvoice_runner.py mirrors cosyvoice-info.ts; a test keeps them equal).
 */
export interface CommandJobDocument {
  version: typeof JOB_DOCUMENT_VERSION;
  mode: JobMode;
  text: string;
  prompt_wav: string | null;
  prompt_text: string | null;
  instruct: string | null;
  speaker_id: string | null;
  speed: number;
  seed: number;
  output_wav: string;
  generation: 1 | 2 | 3;
  model: string;
  sample_rate: number;
}

/** A job's scratch directory: the prompt WAV in, the output WAV out. */
export interface JobFiles {
  dir: string;
  document: CommandJobDocument;
  outputPath: string;
  remove(): Promise<void>;
}

/** Create the job's scratch directory under `scratchDir`, write the prompt WAV into it and build the job document. */
export async function prepareJobFiles(config: CommandEngineConfig, scratchDir: string, input: EngineInput, seed: number): Promise<JobFiles> {
  await fs.mkdir(scratchDir, { recursive: true, mode: 0o700 });
  const dir = await fs.mkdtemp(path.join(scratchDir, 'command-'));
  const remove = (): Promise<void> => fs.rm(dir, { recursive: true, force: true });
  try {
    let promptPath: string | null = null;
    if (input.prompt) {
      promptPath = path.join(dir, 'prompt.wav');
      await fs.writeFile(promptPath, encodeWav16(input.prompt.samples, input.prompt.sampleRate));
    }
    const outputPath = path.join(dir, 'output.wav');
    const document: CommandJobDocument = {
      version: JOB_DOCUMENT_VERSION,
      mode: input.mode,
      text: input.text,
      prompt_wav: promptPath,
      prompt_text: input.promptText ?? null,
      instruct: input.instruct ?? null,
      speaker_id: input.speakerId ?? null,
      speed: input.speed,
      seed,
      output_wav: outputPath,
      generation: config.generation,
      model: config.model,
      sample_rate: outputSampleRate(config),
    };
    return { dir, document, outputPath, remove };
  } catch (err) {
    await remove();
    throw err;
  }
}
