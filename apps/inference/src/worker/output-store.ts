import { createHash } from 'node:crypto';
import type { ObjectStore } from '@chorus/storage';

export interface StoredOutput {
  /** The object key the Job row records (`outputs/<jobId>-<leaseEpoch>.wav`). */
  relativePath: string;
  sha256: string;
  bytes: number;
}

/**
 * Where a worker puts a job's WAV. In the server it goes to the object store; a standalone
 * worker passes its own storer that sends it to the server instead.
 */
export type OutputStorer = (jobId: string, leaseEpoch: number, wav: Uint8Array) => Promise<StoredOutput>;

/**
 * The key a run's output is stored under: one per lease, so a run fenced out after its job was
 * taken over can never overwrite the file the new run's result points at (its own is swept as debris).
 */
export const jobOutputKey = (jobId: string, leaseEpoch: number): string => `outputs/${jobId}-${leaseEpoch}.wav`;

/** Outputs written to the store atomically, so a crash never leaves half a file a row points at. */
export function outputStorerFor(store: ObjectStore): OutputStorer {
  return async (jobId, leaseEpoch, wav) => {
    const relativePath = jobOutputKey(jobId, leaseEpoch);
    await store.put(relativePath, wav);
    return { relativePath, sha256: createHash('sha256').update(wav).digest('hex'), bytes: wav.byteLength };
  };
}
