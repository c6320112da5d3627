import type { AppRouter, StoredWorkerOutput } from '@chorus/api';
import { storedWorkerOutputSchema } from '@chorus/api';
import { createTRPCClient, httpLink, type TRPCClient } from '@trpc/client';

/** The server's answer to a file request that was refused: its status and the message it gave. */
export class ServerRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** How long one call to the server may take before it counts as failed (a partition must not hang a run). */
const CALL_TIMEOUT_MS = 30_000;

/** The worker API of one Chorus server, with this worker's token: the typed procedures and the two audio routes. */
export interface ServerApi {
  trpc: TRPCClient<AppRouter>;
  /** The job's reference voice (the normalised WAV), while this worker's lease holds the job. */
  downloadPrompt(jobId: string): Promise<Uint8Array>;
  /** Store the run's WAV under its lease; the answer carries the sha256 `complete` needs. */
  uploadOutput(jobId: string, epoch: number, wav: Uint8Array): Promise<StoredWorkerOutput>;
}

export function connectServer(serverUrl: string, token: string): ServerApi {
  const authorization = `Bearer ${token}`;
  const trpc = createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${serverUrl}/trpc`, headers: { authorization }, fetch: (url, init) => fetch(url, { ...init, signal: AbortSignal.timeout(CALL_TIMEOUT_MS) }) })],
  });
  const refusal = async (res: Response): Promise<ServerRefusal> => {
    const body = (await res.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
    return new ServerRefusal(res.status, body?.error?.code ?? 'HTTP_ERROR', body?.error?.message ?? `The server answered ${res.status}.`);
  };
  return {
    trpc,
    async downloadPrompt(jobId) {
      const res = await fetch(`${serverUrl}/api/worker/jobs/${encodeURIComponent(jobId)}/prompt`, { headers: { authorization }, signal: AbortSignal.timeout(CALL_TIMEOUT_MS) });
      if (!res.ok) throw await refusal(res);
      return new Uint8Array(await res.arrayBuffer());
    },
    async uploadOutput(jobId, epoch, wav) {
      const res = await fetch(`${serverUrl}/api/worker/jobs/${encodeURIComponent(jobId)}/output?epoch=${epoch}`, {
        method: 'PUT',
        headers: { authorization, 'content-type': 'audio/wav' },
        body: wav,
        signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
      });
      if (!res.ok) throw await refusal(res);
      return storedWorkerOutputSchema.parse(await res.json());
    },
  };
}
