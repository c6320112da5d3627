/**
 * A prompt-decode worker thread: checks one upload at a time with checkPromptAudio and
 * answers with the result (samples transferred, not copied) or the refusal. Every failure
 * is answered as an AudioInputError; the pool handles a worker that dies instead.
 */
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort } from 'node:worker_threads';
import { ACCEPTED_AUDIO_FORMATS, isAudioInputError } from './audio-input-error.ts';
import { newDecodeStats } from './decode-budget.ts';
import type { DecodeRequest, DecodeResponse } from './prompt-decode-protocol.ts';
import { checkPromptAudio } from './prompt-validation.ts';
import { takeSwallowedOutput } from './worker-console.ts';

const port = parentPort;
if (!port) throw new Error('prompt-decode-worker.ts must run in a worker thread');

/**
 * A full garbage collection. A file leaves tens of MB of dead sample buffers behind, and V8
 * only collects external (ArrayBuffer) memory after ~64 MB more of it: without this, a few
 * bombs in a row hold the server ~60 MB larger than one does. (No --expose-gc for workers;
 * the flag only adds a `gc` function to contexts created after it is set.)
 */
const collectGarbage: () => void = (() => {
  v8.setFlagsFromString('--expose-gc');
  const gc: unknown = runInNewContext('gc');
  return typeof gc === 'function' ? (gc as () => void) : () => undefined;
})();

port.on('message', (request: DecodeRequest) => {
  void handle(request).then((response) => {
    const transfer = response.type === 'done' ? [response.result.samples.buffer as ArrayBuffer] : [];
    port.postMessage(response, transfer);
    collectGarbage(); // after answering: costs the next file a few ms, not this one
  });
});

async function handle(request: DecodeRequest): Promise<DecodeResponse> {
  const started = performance.now();
  const stats = newDecodeStats();
  const report = () => ({ stats, decoderOutput: takeSwallowedOutput(), elapsedMs: performance.now() - started });
  try {
    const result = await checkPromptAudio(request.bytes, request.limits, stats, request.maxDecodedBytes);
    return { type: 'done', id: request.id, result, report: report() };
  } catch (err) {
    if (isAudioInputError(err)) return { type: 'refused', id: request.id, error: { code: err.code, message: err.message }, report: report() };
    // Not raised by a decoder call (those are translated where they are made): still the
    // file's doing, since nothing else varies between uploads.
    const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    return {
      type: 'refused',
      id: request.id,
      error: { code: 'UNDECODABLE', message: `The file could not be decoded (${detail.slice(0, 200)}). It may be damaged; export it again. Chorus accepts ${ACCEPTED_AUDIO_FORMATS}.` },
      report: report(),
    };
  }
}

const ready: DecodeResponse = { type: 'ready' };
port.postMessage(ready);
