import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

export interface StoredOutput {
  /** Relative to the data dir. */
  relativePath: string;
  sha256: string;
  bytes: number;
}

/** Write a job's WAV atomically (temp file + rename) so a crash never leaves half a file. */
export async function storeJobOutput(dataDir: string, jobId: string, wav: Uint8Array): Promise<StoredOutput> {
  const relativePath = path.join('outputs', `${jobId}.wav`);
  const finalPath = path.join(dataDir, relativePath);
  await fs.mkdir(path.dirname(finalPath), { recursive: true });
  const tmp = `${finalPath}.${randomUUID()}.tmp`;
  try {
    await fs.writeFile(tmp, wav);
    await fs.rename(tmp, finalPath);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  return { relativePath, sha256: createHash('sha256').update(wav).digest('hex'), bytes: wav.byteLength };
}
