import fs from 'node:fs/promises';
import path from 'node:path';
import type { Upload } from '@chorus/db';
import { decodeWav, downmix } from '../audio/wav.ts';
import type { PromptAudio } from '../engine/engine.ts';

/** Read an upload's normalised mono WAV (written at upload time) for an engine. */
export async function loadPromptAudio(dataDir: string, upload: Upload): Promise<PromptAudio> {
  const bytes = await fs.readFile(path.join(dataDir, upload.pcmPath));
  const decoded = decodeWav(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return { samples: downmix(decoded.channels), sampleRate: decoded.sampleRate };
}
