import { EngineError } from '../../engine/engine.ts';
import { capitalize } from './error-body.ts';
import { describeNetworkError } from './network-error.ts';

/** Why a call was aborted by us (not by the network). */
export type RemoteAbortReason = 'canceled' | 'timeout' | 'stalled' | 'closed';

export interface RemoteCallOptions {
  /** The job's signal: aborting it cancels the request at once. */
  signal: AbortSignal;
  /** The whole call, from sending the request to the last byte of the answer. */
  timeoutMs: number;
  /** No bytes (headers or body) for this long aborts the call as stalled. Omit for no stall limit. */
  stallTimeoutMs?: number;
  /** What is called, for messages: e.g. "the CosyVoice FastAPI runtime at http://gpu1:50000". */
  target: string;
  /** The stage the job is in, recorded on errors. */
  stage?: () => string | undefined;
  /** Appended to stall and timeout messages, e.g. " after 3.2 s of audio". */
  describeProgress?: () => string;
}

/** The connection ended while the answer was being read (a network error, not our abort). */
export class ConnectionLostError extends EngineError {
  constructor(
    readonly reason: string,
    target: string,
    stage?: string,
  ) {
    super('ENGINE_FAILED', `The connection to ${target} broke while the answer was being read: ${reason}.`, 'The server may have crashed or restarted; its log says why. Try again.', stage);
  }
}

const seconds = (ms: number): string => `${Math.round(ms / 100) / 10} s`;

/**
 * One HTTP exchange with a remote engine, under the job's cancel signal, a deadline for the
 * whole call and an optional stall timer that every received byte resets. Network failures
 * and our own aborts come out as EngineErrors with stable codes:
 * CANCELED, ENGINE_TIMEOUT, ENGINE_STALLED, ENGINE_CLOSED, ENGINE_UNAVAILABLE (no answer
 * at all) and ConnectionLostError (ENGINE_FAILED; the answer broke off). Always dispose().
 */
export class RemoteCall {
  private readonly controller = new AbortController();
  private why: RemoteAbortReason | null = null;
  private readonly deadline: NodeJS.Timeout;
  private stallTimer: NodeJS.Timeout | undefined;
  private readonly onJobAbort = (): void => this.abort('canceled');
  readonly startedAt = performance.now();

  constructor(private readonly options: RemoteCallOptions) {
    this.deadline = setTimeout(() => this.abort('timeout'), options.timeoutMs);
    if (options.signal.aborted) this.abort('canceled');
    else options.signal.addEventListener('abort', this.onJobAbort, { once: true });
    this.touch();
  }

  /** Why we aborted, or null while the call runs (or ended on its own). */
  get abortReason(): RemoteAbortReason | null {
    return this.why;
  }

  /** Abort the request now; the pending fetch or read rejects with the matching EngineError. */
  abort(why: RemoteAbortReason): void {
    if (this.why !== null) return;
    this.why = why;
    this.clearTimers();
    this.controller.abort();
  }

  /** Data arrived: restart the stall timer. */
  touch(): void {
    if (this.options.stallTimeoutMs === undefined || this.why !== null) return;
    clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => this.abort('stalled'), this.options.stallTimeoutMs);
  }

  /** Throw the abort's EngineError if the call has been aborted. */
  throwIfAborted(): void {
    if (this.why !== null) throw this.abortError(this.why);
  }

  /** fetch() under this call's signal; resolves once response headers arrive. */
  async fetch(url: string, init: Omit<RequestInit, 'signal'> = {}): Promise<Response> {
    this.throwIfAborted();
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal: this.controller.signal });
    } catch (err) {
      throw this.failure(err, 'request');
    }
    this.touch();
    return response;
  }

  /** The response body chunk by chunk; every chunk restarts the stall timer. */
  async *chunks(response: Response): AsyncGenerator<Uint8Array, void, undefined> {
    if (!response.body) return;
    const reader = response.body.getReader();
    try {
      for (;;) {
        let result: Awaited<ReturnType<typeof reader.read>>;
        try {
          result = await reader.read();
        } catch (err) {
          throw this.failure(err, 'body');
        }
        if (result.done) return;
        this.touch();
        if (result.value.byteLength > 0) yield result.value;
      }
    } finally {
      reader.releaseLock();
    }
  }

  /** The whole body as bytes; with `limit`, stops reading after that many bytes (error bodies). */
  async bytes(response: Response, limit = Infinity): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let length = 0;
    for await (const chunk of this.chunks(response)) {
      parts.push(chunk);
      length += chunk.byteLength;
      if (length >= limit) break;
    }
    const out = new Uint8Array(length);
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.byteLength;
    }
    return length > limit ? out.subarray(0, limit) : out;
  }

  /** The whole body as UTF-8 text (see bytes()). */
  async text(response: Response, limit = Infinity): Promise<string> {
    return new TextDecoder().decode(await this.bytes(response, limit));
  }

  /** Stop the timers and free the connection. Safe to call more than once. */
  dispose(): void {
    this.clearTimers();
    this.options.signal.removeEventListener('abort', this.onJobAbort);
    // Releases the socket if the body was not read to the end; a no-op after a complete answer.
    if (!this.controller.signal.aborted) this.controller.abort();
  }

  private clearTimers(): void {
    clearTimeout(this.deadline);
    clearTimeout(this.stallTimer);
  }

  private abortError(why: RemoteAbortReason): EngineError {
    const { target } = this.options;
    const stage = this.options.stage?.();
    const progress = this.options.describeProgress?.() ?? '';
    switch (why) {
      case 'canceled':
        return new EngineError('CANCELED', 'The job was canceled.', undefined, stage);
      case 'timeout':
        return new EngineError(
          'ENGINE_TIMEOUT',
          `No complete answer from ${target} within ${seconds(this.options.timeoutMs)}${progress}.`,
          'The text may be too long for this engine or its GPU is busy with other work. Try a shorter text; an admin can raise this engine’s timeoutMs.',
          stage,
        );
      case 'stalled':
        return new EngineError(
          'ENGINE_STALLED',
          `${capitalize(target)} sent nothing for ${seconds(this.options.stallTimeoutMs ?? 0)}${progress}.`,
          'The model seems to hang or the GPU is overloaded. Try again later; if it keeps happening an admin should check the server (and its stallTimeoutMs).',
          stage,
        );
      case 'closed':
        return new EngineError('ENGINE_CLOSED', 'The engine was shut down while the job ran.', 'Submit the job again once the service is back.', stage);
    }
  }

  private failure(err: unknown, phase: 'request' | 'body'): EngineError {
    if (this.why !== null) return this.abortError(this.why);
    if (err instanceof EngineError) return err;
    const failure = describeNetworkError(err);
    const { target } = this.options;
    const stage = this.options.stage?.();
    if (failure.headersTimeout) {
      return new EngineError('ENGINE_TIMEOUT', `${capitalize(target)} gave no answer: ${failure.reason}.`, 'The engine is too slow for this text; try a shorter one.', stage);
    }
    if (failure.bodyTimeout) {
      return new EngineError('ENGINE_STALLED', `${capitalize(target)} stopped sending: ${failure.reason}.`, 'The model seems to hang or the GPU is overloaded. Try again later.', stage);
    }
    if (phase === 'request') {
      return new EngineError(
        'ENGINE_UNAVAILABLE',
        `Cannot reach ${target}: ${failure.reason}.`,
        'Check that the server is running and that this machine can reach it (URL, port, firewall). Queued jobs wait while the engine is down.',
        stage,
      );
    }
    return new ConnectionLostError(failure.reason, target, stage);
  }
}
