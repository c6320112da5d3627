/**
 * Synthesis worker thread: eSpeak blocks for ~50–500 ms per call and the DSP after it for
 * a few hundred more, so whole jobs run here and the server's event loop stays free.
 * Started through synth-worker-boot.mjs (which makes TypeScript loadable in the thread).
 */
import { parentPort } from 'node:worker_threads';
import { loadEspeakData } from './espeak.ts';
import { runSynthesisJob } from './synthesis-job.ts';
import { serializeError, type FromWorker, type ToWorker } from './worker-protocol.ts';

const port = parentPort;
if (!port) throw new Error('synth-worker.ts must run in a worker thread.');
const send = (message: FromWorker): void => port.postMessage(message);

// Jobs are canceled by terminating this thread (see worker-pool.ts), so the signal here never fires.
const neverAborted = new AbortController().signal;

port.on('message', (message: ToWorker) => {
  runSynthesisJob(message.input, {
    seed: message.seed,
    signal: neverAborted,
    emit: (event) => send({ type: 'event', id: message.id, event }),
  })
    .then((output) => send({ type: 'done', id: message.id, output }))
    .catch((err: unknown) => send({ type: 'failed', id: message.id, error: serializeError(err) }));
});

// Read the 24 MB voice data before announcing readiness, so the first job does not pay for it.
await loadEspeakData();
send({ type: 'ready' });
