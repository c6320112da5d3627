import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav } from '../src/audio/wav.ts';
import type { EngineInput } from '../src/engine/engine.ts';
import { cosyVoiceHttpEngineConfigSchema, type CosyVoiceHttpEngineConfig } from '../src/engines/config.ts';
import { createCosyVoiceHttpEngine } from '../src/engines/cosyvoice-http/index.ts';
import { standinSegments, startFastApiStandin, type FastApiStandin } from './standins/fastapi-standin.ts';
import { closedPort, expectProgressEndsComplete, logs, referenceVoice, rms, runJob, stages } from './standins/harness.ts';

// Every server here is a stand-in for CosyVoice's FastAPI runtime (there is no GPU or
// model in this repository); it speaks the runtime's exact protocol. See standins/.

const SYSTEM = 'You are a helpful assistant.<|endofprompt|>';
const ZH = '收到好友从远方寄来的生日礼物，那份意外的惊喜让我心中充满了甜蜜的快乐。笑容如花儿般绽放！我们明天再见吧。';
const EN = 'The quick brown fox jumps over the lazy dog. Then it runs far away into the forest, and nobody sees it again!';

function config(standin: FastApiStandin | string, overrides: Partial<CosyVoiceHttpEngineConfig> = {}): CosyVoiceHttpEngineConfig {
  return cosyVoiceHttpEngineConfigSchema.parse({
    id: 'cv-http',
    kind: 'cosyvoice-http',
    generation: 2,
    model: 'CosyVoice2-0.5B',
    url: typeof standin === 'string' ? standin : standin.url,
    ...overrides,
  });
}

const zeroShot = (overrides: Partial<EngineInput> = {}): EngineInput => ({
  mode: 'zero_shot',
  text: ZH,
  prompt: referenceVoice(3, 44100),
  promptText: '希望你以后能够做的比我还好呦。',
  speed: 1,
  ...overrides,
});

/** Decode the output WAV and compare it with exactly what the stand-in streamed. */
function expectOutputIsStream(output: { wav: Uint8Array; sampleRate: number; durationMs: number }, standin: FastApiStandin, rate: number): void {
  const decoded = decodeWav(output.wav);
  expect(decoded.sampleRate).toBe(rate);
  expect(output.sampleRate).toBe(rate);
  expect(decoded.channels).toHaveLength(1);
  const sent = standin.lastPcm();
  const got = decoded.channels[0]!;
  expect(got.length).toBe(sent.length);
  expect(output.durationMs).toBe(Math.round((sent.length / rate) * 1000));
  for (let i = 0; i < sent.length; i += 97) expect(Math.round(got[i]! * 32768)).toBe(sent[i]);
  expect(rms(got)).toBeGreaterThan(0.05);
}

describe('cosyvoice-http engine against a stand-in FastAPI runtime (CosyVoice 2, 24 kHz)', () => {
  let standin: FastApiStandin;
  beforeAll(async () => {
    standin = await startFastApiStandin({ sampleRate: 24000, generation: 2, debug: true, speakers: ['中文女'] });
  });
  afterAll(() => standin.close());

  it('describes itself: not reproducible, the runtime’s modes, 24 kHz', () => {
    const engine = createCosyVoiceHttpEngine(config(standin, { speakers: [{ id: '中文女', name: 'Chinese female', language: 'zh' }] }));
    expect(engine.info).toMatchObject({ kind: 'cosyvoice-http', reproducible: false, outputSampleRate: 24000, modes: ['zero_shot', 'cross_lingual', 'instruct', 'pretrained'] });
    expect(engine.info.stages.map((s) => s.name)).toEqual(['upload', 'synthesis', 'encoding']);
    expect(createCosyVoiceHttpEngine(config(standin, { generation: 1 })).info.modes).toEqual(['zero_shot', 'cross_lingual']);
  });

  it('zero-shot: posts the multipart form server.py expects and writes the streamed PCM as a WAV', async () => {
    const engine = createCosyVoiceHttpEngine(config(standin));
    const run = await runJob(engine, zeroShot());
    expect(run.error).toBeUndefined();
    const req = standin.last;
    expect(req.method).toBe('POST');
    expect(req.path).toBe('/inference_zero_shot');
    expect(req.contentType).toMatch(/^multipart\/form-data; boundary=/);
    expect(req.fields).toEqual({ tts_text: ZH, prompt_text: '希望你以后能够做的比我还好呦。' });
    expect(req.files.prompt_wav).toMatchObject({ filename: 'prompt.wav', contentType: 'audio/wav' });
    expect(new TextDecoder().decode(req.files.prompt_wav!.bytes.subarray(0, 4))).toBe('RIFF');
    expect(req.promptWav).toEqual({ sampleRate: 44100, channels: 1, bitsPerSample: 16, frames: 3 * 44100 });
    expect(req.segments.length).toBeGreaterThan(1);
    expectOutputIsStream(run.output!, standin, 24000);
    expect(stages(run)).toEqual(['upload', 'synthesis', 'encoding']);
    expectProgressEndsComplete(run);
    expect(logs(run, 'info').some((m) => /^First audio after \d+\.\d\d s\.$/.test(m))).toBe(true);
    expect(logs(run, 'info').some((m) => /not reproducible.*takes no seed \(seed 1234/.test(m))).toBe(true);
    expect(logs(run, 'warn')).toEqual([]);
  });

  it('cross-lingual: tts_text and prompt_wav to /inference_cross_lingual; speed ≠ 1 is a warning', async () => {
    const engine = createCosyVoiceHttpEngine(config(standin));
    const run = await runJob(engine, { mode: 'cross_lingual', text: EN, prompt: referenceVoice(2, 16000), speed: 1.5 });
    expect(run.error).toBeUndefined();
    expect(standin.last.path).toBe('/inference_cross_lingual');
    expect(standin.last.fields).toEqual({ tts_text: EN });
    expect(standin.last.promptWav).toMatchObject({ sampleRate: 16000, channels: 1, bitsPerSample: 16 });
    expect(logs(run, 'warn')).toEqual([expect.stringMatching(/Speed 1\.5 is not applied: this runtime ignores speed/)]);
    expectOutputIsStream(run.output!, standin, 24000);
  });

  it('instruct: /inference_instruct2 with the instruction ending in <|endofprompt|> (CosyVoice 2)', async () => {
    const engine = createCosyVoiceHttpEngine(config(standin));
    const run = await runJob(engine, { mode: 'instruct', text: ZH, instruct: '用四川话说这句话', prompt: referenceVoice(), speed: 1 });
    expect(run.error).toBeUndefined();
    expect(standin.last.path).toBe('/inference_instruct2');
    expect(standin.last.fields).toEqual({ tts_text: ZH, instruct_text: '用四川话说这句话<|endofprompt|>' });
    expect(standin.last.files.prompt_wav).toBeDefined();
    expectOutputIsStream(run.output!, standin, 24000);
  });

  it('pretrained: /inference_sft with tts_text and spk_id, no file', async () => {
    const engine = createCosyVoiceHttpEngine(config(standin, { speakers: [{ id: '中文女', name: 'Chinese female', language: 'zh' }] }));
    const run = await runJob(engine, { mode: 'pretrained', text: ZH, speakerId: '中文女', speed: 1 });
    expect(run.error).toBeUndefined();
    expect(standin.last.path).toBe('/inference_sft');
    expect(standin.last.fields).toEqual({ tts_text: ZH, spk_id: '中文女' });
    expect(standin.last.files).toEqual({});
    expectOutputIsStream(run.output!, standin, 24000);
  });

  it('an empty transcript is refused before sending (FastAPI would answer 422 for an empty field)', async () => {
    const engine = createCosyVoiceHttpEngine(config(standin));
    const before = standin.requests.length;
    const run = await runJob(engine, zeroShot({ promptText: '  ' }));
    expect(run.error).toMatchObject({ code: 'PROMPT_TEXT_REQUIRED', stage: 'upload' });
    expect(standin.requests.length).toBe(before);
  });

  it('probe: any HTTP answer from /docs means up', async () => {
    const engine = createCosyVoiceHttpEngine(config(standin));
    await expect(engine.probe!(new AbortController().signal)).resolves.toBeUndefined();
  });
});

describe('cosyvoice-http engine: CosyVoice 3 needs <|endofprompt|> from us', () => {
  let standin: FastApiStandin;
  beforeAll(async () => {
    standin = await startFastApiStandin({ sampleRate: 24000, generation: 3, debug: true });
  });
  afterAll(() => standin.close());
  const engine = (): ReturnType<typeof createCosyVoiceHttpEngine> => createCosyVoiceHttpEngine(config(standin, { generation: 3, model: 'Fun-CosyVoice3-0.5B' }));

  it('zero-shot: the system prompt and marker go in front of prompt_text', async () => {
    const run = await runJob(engine(), zeroShot());
    expect(run.error).toBeUndefined();
    expect(standin.last.fields.prompt_text).toBe(`${SYSTEM}希望你以后能够做的比我还好呦。`);
    expect(standin.last.fields.tts_text).toBe(ZH);
    expectOutputIsStream(run.output!, standin, 24000);
  });

  it('zero-shot without a transcript still sends a non-empty prompt_text', async () => {
    const run = await runJob(engine(), zeroShot({ promptText: undefined }));
    expect(run.error).toBeUndefined();
    expect(standin.last.fields.prompt_text).toBe(SYSTEM);
  });

  it('cross-lingual: the marker goes in front of tts_text', async () => {
    const run = await runJob(engine(), { mode: 'cross_lingual', text: EN, prompt: referenceVoice(), speed: 1 });
    expect(run.error).toBeUndefined();
    expect(standin.last.fields.tts_text).toBe(`${SYSTEM}${EN}`);
  });

  it('instruct: "You are a helpful assistant. <instruction><|endofprompt|>"', async () => {
    const run = await runJob(engine(), { mode: 'instruct', text: ZH, instruct: '请用广东话表达。', prompt: referenceVoice(), speed: 1 });
    expect(run.error).toBeUndefined();
    expect(standin.last.fields.instruct_text).toBe('You are a helpful assistant. 请用广东话表达。<|endofprompt|>');
  });

  it('a CosyVoice3 server configured as generation 2: the model’s assertion drops the stream before any audio', async () => {
    const wrong = createCosyVoiceHttpEngine(config(standin, { generation: 2 }));
    const run = await runJob(wrong, zeroShot());
    expect(run.error).toMatchObject({ code: 'ENGINE_FAILED', stage: 'synthesis' });
    expect(run.error!.message).toMatch(/closed the connection before sending any audio/);
    expect(run.error!.hint).toMatch(/traceback is in the server’s log/);
  });
});

describe('cosyvoice-http engine: CosyVoice 1 at 22050 Hz', () => {
  let standin: FastApiStandin;
  beforeAll(async () => {
    standin = await startFastApiStandin({ sampleRate: 22050, generation: 1, debug: true, speakers: ['英文男'], splitWrites: true });
  });
  afterAll(() => standin.close());

  it('reads PCM split at odd byte offsets and writes a 22050 Hz WAV of exactly the samples sent', async () => {
    const engine = createCosyVoiceHttpEngine(config(standin, { generation: 1, model: 'CosyVoice-300M-SFT', speakers: [{ id: '英文男', name: 'English male', language: 'en' }] }));
    expect(engine.info.outputSampleRate).toBe(22050);
    const run = await runJob(engine, { mode: 'pretrained', text: EN, speakerId: '英文男', speed: 1 });
    expect(run.error).toBeUndefined();
    expect(standin.last.fields.tts_text).toBe(EN);
    expectOutputIsStream(run.output!, standin, 22050);
    expectProgressEndsComplete(run);
  });
});

describe('cosyvoice-http engine: failures', () => {
  let standin: FastApiStandin;
  let plain: FastApiStandin;
  beforeAll(async () => {
    standin = await startFastApiStandin({ sampleRate: 24000, generation: 2, debug: true, segmentDelayMs: 40 });
    plain = await startFastApiStandin({ sampleRate: 24000, generation: 2, debug: false });
  });
  afterAll(async () => {
    await standin.close();
    await plain.close();
  });

  it('a 500 traceback with CUDA out of memory → GPU_OOM', async () => {
    standin.failNext({ kind: 'raise-before-stream', error: 'oom' });
    const run = await runJob(createCosyVoiceHttpEngine(config(standin)), zeroShot());
    expect(standin.last.status).toBe(500);
    expect(run.error).toMatchObject({ code: 'GPU_OOM', stage: 'upload' });
  });

  it('an 8 kHz reference: load_wav’s assertion (500 traceback) → PROMPT_SAMPLE_RATE', async () => {
    const run = await runJob(createCosyVoiceHttpEngine(config(standin)), zeroShot({ prompt: referenceVoice(3, 8000) }));
    expect(standin.last.status).toBe(500);
    expect(run.error).toMatchObject({ code: 'PROMPT_SAMPLE_RATE', message: expect.stringContaining('8000 Hz') });
  });

  it('a 500 traceback with the <|endofprompt|> assertion → PROMPT_FORMAT', async () => {
    standin.failNext({ kind: 'raise-before-stream', error: 'endofprompt' });
    const run = await runJob(createCosyVoiceHttpEngine(config(standin)), zeroShot());
    expect(run.error).toMatchObject({ code: 'PROMPT_FORMAT' });
  });

  it('a 500 traceback with the 30 s tokenizer assertion → PROMPT_TOO_LONG', async () => {
    standin.failNext({ kind: 'raise-before-stream', error: 'too-long' });
    const run = await runJob(createCosyVoiceHttpEngine(config(standin)), zeroShot());
    expect(run.error).toMatchObject({ code: 'PROMPT_TOO_LONG' });
  });

  it('a 500 traceback with another error → ENGINE_FAILED with the exception line', async () => {
    standin.failNext({ kind: 'raise-before-stream', error: 'other' });
    const run = await runJob(createCosyVoiceHttpEngine(config(standin)), zeroShot());
    expect(run.error).toMatchObject({ code: 'ENGINE_FAILED' });
    expect(run.error!.message).toBe('The CosyVoice server failed: RuntimeError: shape mismatch: value tensor of shape [1, 80, 0] cannot be broadcast to indexing result of shape [1, 80, 12]');
  });

  it('a bare "Internal Server Error" (server not in debug mode) → ENGINE_FAILED pointing at the server log', async () => {
    const run = await runJob(createCosyVoiceHttpEngine(config(plain)), zeroShot({ prompt: referenceVoice(3, 8000) }));
    expect(run.error).toMatchObject({ code: 'ENGINE_FAILED' });
    expect(run.error!.message).toMatch(/failed \(HTTP 500 Internal Server Error\) without details: Internal Server Error/);
    expect(run.error!.hint).toMatch(/console log/);
  });

  it('FastAPI’s 422 validation error → ENGINE_REJECTED with the detail', async () => {
    const strict = await startFastApiStandin({ sampleRate: 24000, generation: 2, extraRequiredFields: { '/inference_zero_shot': ['zero_shot_spk_id'] } });
    try {
      const run = await runJob(createCosyVoiceHttpEngine(config(strict)), zeroShot());
      expect(strict.last.status).toBe(422);
      expect(run.error).toMatchObject({ code: 'ENGINE_REJECTED', stage: 'upload' });
      expect(run.error!.message).toBe('The CosyVoice server rejected the request (HTTP 422 Unprocessable Entity): zero_shot_spk_id: Field required.');
    } finally {
      await strict.close();
    }
  });

  it('a URL that is not the runtime (404) → ENGINE_REJECTED', async () => {
    const run = await runJob(createCosyVoiceHttpEngine(config(`${standin.url}/tts`)), zeroShot());
    expect(run.error).toMatchObject({ code: 'ENGINE_REJECTED' });
    expect(run.error!.message).toMatch(/\/tts\/inference_zero_shot does not exist on that server \(HTTP 404 Not Found\)/);
  });

  it('200 with an empty body → ENGINE_NO_AUDIO', async () => {
    standin.failNext({ kind: 'empty' });
    const run = await runJob(createCosyVoiceHttpEngine(config(standin)), zeroShot());
    expect(run.error).toMatchObject({ code: 'ENGINE_NO_AUDIO', stage: 'synthesis' });
  });

  it('the stream dropping mid-way → ENGINE_FAILED saying how much audio had arrived', async () => {
    standin.failNext({ kind: 'raise-mid-stream', afterSegments: 2 });
    const run = await runJob(createCosyVoiceHttpEngine(config(standin)), zeroShot());
    expect(run.error).toMatchObject({ code: 'ENGINE_FAILED', stage: 'synthesis' });
    const seconds = standin.lastPcm().length / 24000;
    expect(seconds).toBeGreaterThan(1);
    expect(run.error!.message).toContain(`closed the connection mid-stream after ${seconds.toFixed(1)} s of audio`);
  });

  it('a stalled stream (headers and some audio, then silence) → ENGINE_STALLED after stallTimeoutMs, and the request is closed', async () => {
    standin.failNext({ kind: 'stall', afterSegments: 1 });
    const started = performance.now();
    const run = await runJob(createCosyVoiceHttpEngine(config(standin, { stallTimeoutMs: 400 })), zeroShot());
    expect(run.error).toMatchObject({ code: 'ENGINE_STALLED', stage: 'synthesis' });
    expect(run.error!.message).toMatch(/sent nothing for 0\.4 s after \d+\.\d s of audio/);
    expect(run.settledAt - started).toBeGreaterThanOrEqual(400);
    await standin.waitForAbort(1000);
  });

  it('a stall before the answer starts → ENGINE_STALLED before any audio', async () => {
    standin.failNext({ kind: 'stall', afterSegments: 0 });
    const run = await runJob(createCosyVoiceHttpEngine(config(standin, { stallTimeoutMs: 300 })), zeroShot());
    expect(run.error).toMatchObject({ code: 'ENGINE_STALLED' });
    expect(run.error!.message).toMatch(/before any audio/);
  });

  it('the whole request over timeoutMs → ENGINE_TIMEOUT', async () => {
    const slow = await startFastApiStandin({ sampleRate: 24000, generation: 2, segmentDelayMs: 250 });
    try {
      const run = await runJob(createCosyVoiceHttpEngine(config(slow, { timeoutMs: 600 })), zeroShot());
      expect(run.error).toMatchObject({ code: 'ENGINE_TIMEOUT', stage: 'synthesis' });
      expect(run.error!.message).toMatch(/No complete answer from the CosyVoice FastAPI runtime at .* within 0\.6 s after \d+\.\d s of audio/);
      await slow.waitForAbort(1000);
    } finally {
      await slow.close();
    }
  });

  it('cancel aborts the request at once; the server sees it closed', async () => {
    const slow = await startFastApiStandin({ sampleRate: 24000, generation: 2, segmentDelayMs: 300 });
    try {
      const controller = new AbortController();
      const engine = createCosyVoiceHttpEngine(config(slow));
      let abortedAt = 0;
      const pending = engine.run(zeroShot(), {
        seed: 1,
        signal: controller.signal,
        emit: (e) => {
          // Cancel once audio is streaming in.
          if (e.type === 'progress' && e.step > 0 && abortedAt === 0) {
            abortedAt = performance.now();
            controller.abort();
          }
        },
      });
      await expect(pending).rejects.toMatchObject({ code: 'CANCELED' });
      expect(performance.now() - abortedAt).toBeLessThan(200);
      const req = await slow.waitForAbort(1000);
      expect(req.abortedAt).toBeDefined();
      expect(req.segments.length).toBeLessThan(standinSegments(ZH).length);
    } finally {
      await slow.close();
    }
  });

  it('an engine nobody listens for → ENGINE_UNAVAILABLE naming the URL; probe says down', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const engine = createCosyVoiceHttpEngine(config(url));
    const run = await runJob(engine, zeroShot());
    expect(run.error).toMatchObject({ code: 'ENGINE_UNAVAILABLE', stage: 'upload' });
    expect(run.error!.message).toBe(`Cannot reach the CosyVoice FastAPI runtime at ${url}: connection refused (nothing listens on that port) (ECONNREFUSED).`);
    await expect(engine.probe!(new AbortController().signal)).rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE', message: expect.stringContaining(url) });
  });

  it('close() ends a running job with ENGINE_CLOSED', async () => {
    const slow = await startFastApiStandin({ sampleRate: 24000, generation: 2, segmentDelayMs: 300 });
    try {
      const engine = createCosyVoiceHttpEngine(config(slow));
      const pending = runJob(engine, zeroShot());
      await new Promise((resolve) => setTimeout(resolve, 100));
      await engine.close!();
      expect((await pending).error).toMatchObject({ code: 'ENGINE_CLOSED' });
    } finally {
      await slow.close();
    }
  });
});
