import { uploadErrorSchema, uploadResultSchema, type UploadErrorCode, type UploadResult } from '@chorus/api/schemas';
import { sessionMaybeLost } from '../trpc/sessionSignals.ts';

/** A rejected upload, with the server's stable code and its explanation. */
export class UploadFailure extends Error {
  constructor(
    readonly code: UploadErrorCode | 'NETWORK' | 'BAD_RESPONSE',
    message: string,
  ) {
    super(message);
    this.name = 'UploadFailure';
  }
}

/** POST the raw audio bytes to /api/uploads (file name in ?name=); the server measures and validates them. */
export async function uploadAudio(audio: Blob, name: string, signal?: AbortSignal): Promise<UploadResult> {
  let response: Response;
  try {
    response = await fetch(`/api/uploads?name=${encodeURIComponent(name)}`, {
      method: 'POST',
      headers: { 'Content-Type': audio.type || 'application/octet-stream' },
      body: audio,
      signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new UploadFailure('NETWORK', `Could not reach the server: ${err instanceof Error ? err.message : String(err)}`);
  }
  // Signed out meanwhile: the auth gate checks and shows the sign-in page.
  if (response.status === 401) sessionMaybeLost.emit();
  const body: unknown = await response.json().catch(() => null);
  if (response.ok) {
    const parsed = uploadResultSchema.safeParse(body);
    if (parsed.success) return parsed.data;
    throw new UploadFailure('BAD_RESPONSE', `The server answered ${response.status} with an unexpected body.`);
  }
  const failure = uploadErrorSchema.safeParse(body);
  if (failure.success) throw new UploadFailure(failure.data.error.code, failure.data.error.message);
  throw new UploadFailure('BAD_RESPONSE', `Upload failed: HTTP ${response.status} ${response.statusText}`.trim());
}
