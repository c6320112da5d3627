import type { Upload } from '@chorus/db';
import { ObjectNotFoundError, readObject, type ObjectStore } from '@chorus/storage';
import { decodeWav, downmix } from '../audio/wav.ts';
import { EngineError, type PromptAudio } from '../engine/engine.ts';

/**
 * Where a worker gets a job's reference voice: the normalised mono WAV written at upload time.
 * In the server it is read from the object store; a standalone worker (no store, no database)
 * passes its own loader that asks the server instead.
 */
export type PromptLoader = (upload: Pick<Upload, 'id' | 'pcmPath'>) => Promise<PromptAudio>;

/** Decode the stored PCM WAV into what an engine takes. */
export function decodePromptWav(bytes: Uint8Array): PromptAudio {
  const decoded = decodeWav(bytes);
  return { samples: downmix(decoded.channels), sampleRate: decoded.sampleRate };
}

/** Prompts read from the store that holds the uploads. */
export function promptLoaderFor(store: ObjectStore): PromptLoader {
  return async (upload) => {
    let bytes: Buffer;
    try {
      bytes = await readObject(store, upload.pcmPath);
    } catch (err) {
      if (err instanceof ObjectNotFoundError) {
        throw new EngineError('PROMPT_MISSING', `The reference audio of upload ${upload.id} is missing from storage.`, 'Upload the reference audio again and submit a new job.');
      }
      throw err;
    }
    return decodePromptWav(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  };
}
