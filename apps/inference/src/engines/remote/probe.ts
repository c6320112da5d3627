import { EngineError } from '../../engine/engine.ts';
import { capitalize, ERROR_BODY_LIMIT } from './error-body.ts';
import { RemoteCall } from './remote-call.ts';

/** A health check must answer quickly; a server that takes longer counts as down. */
export const PROBE_TIMEOUT_MS = 5000;

export interface ProbeAnswer {
  status: number;
  /** The body, up to 64 KiB. */
  text: string;
}

/**
 * GET `url` for a health check. Resolves with any HTTP answer; rejects with
 * ENGINE_UNAVAILABLE when nothing answers (refused, DNS, reset, no answer in time), or
 * CANCELED when `signal` aborts.
 */
export async function probeGet(url: string, target: string, signal: AbortSignal, timeoutMs = PROBE_TIMEOUT_MS): Promise<ProbeAnswer> {
  const call = new RemoteCall({ signal, timeoutMs, target });
  try {
    const response = await call.fetch(url, { method: 'GET' });
    return { status: response.status, text: await call.text(response, ERROR_BODY_LIMIT) };
  } catch (err) {
    const path = new URL(url).pathname;
    if (err instanceof EngineError && err.code === 'ENGINE_TIMEOUT') {
      throw new EngineError('ENGINE_UNAVAILABLE', `${capitalize(target)} did not answer GET ${path} within ${timeoutMs / 1000} s.`, 'The server may be overloaded or hung; an admin should check it.');
    }
    if (err instanceof EngineError && err.code === 'ENGINE_FAILED') {
      throw new EngineError('ENGINE_UNAVAILABLE', `${capitalize(target)} broke off its answer to GET ${path}: ${err.message}`, err.hint);
    }
    throw err;
  } finally {
    call.dispose();
  }
}
