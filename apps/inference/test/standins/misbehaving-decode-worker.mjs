// A stand-in prompt-decode worker that misbehaves on purpose, to test PromptDecodePool.
// It speaks the pool's protocol (ready, then one answer per request) but, depending on
// the text of the uploaded bytes: "oom" fills its heap until V8 kills it, "hang" never
// answers, "exit" ends the thread, "throw" throws an uncaught error, "slow" blocks for
// 300 ms and answers with when it started and ended; anything else is answered as a
// refusal so a worker can be seen to work.
import process from 'node:process';
import { TextDecoder } from 'node:util';
import { parentPort } from 'node:worker_threads';

parentPort.on('message', (request) => {
  const text = new TextDecoder().decode(request.bytes);
  if (text === 'oom') {
    const hoard = [];
    for (;;) hoard.push(new Array(1e6).fill({ text }));
  }
  if (text === 'hang') for (;;);
  if (text === 'exit') process.exit(3);
  if (text === 'throw') throw new TypeError('the stand-in decoder broke');
  let message = `stand-in saw ${JSON.stringify(text)}`;
  if (text === 'slow') {
    const start = Date.now();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    message = `${start} ${Date.now()}`;
  }
  parentPort.postMessage({
    type: 'refused',
    id: request.id,
    error: { code: 'UNDECODABLE', message },
    report: { stats: { bytesFed: 0, bytesLeft: 0, framesDecoded: 0, sampleRate: 0, calls: 0 }, decoderOutput: { lines: 0, first: null }, elapsedMs: 0 },
  });
});
parentPort.postMessage({ type: 'ready' });
