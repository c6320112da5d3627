import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resample } from '../src/audio/resample.ts';
import { decodeWav } from '../src/audio/wav.ts';
import type { EngineInput } from '../src/engine/engine.ts';
import { cosyVoiceTritonEngineConfigSchema, type CosyVoiceTritonEngineConfig } from '../src/engines/config.ts';
import { createCosyVoiceTritonEngine } from '../src/engines/cosyvoice-triton/index.ts';
import { buildInferRequest, parseWaveform } from '../src/engines/cosyvoice-triton/kserve.ts';
import { closedPort, expectProgressEndsComplete, logs, referenceVoice, rms, runJob, stages } from './standins/harness.ts';
import { startTritonStandin, TRITON_OUTPUT_RATE, type TritonStandin } from './standins/triton-standin.ts';

// Every server here is a stand-in for Triton serving CosyVoice's model repository (there
// is no GPU or model in this repository); it checks requests like Triton does. See standins/.

const TEXT = '身临其境，换新体验。塑造开源语音合成新范式，让智能语音更自然。';
const TRANSCRIPT = '希望你以后能够做的比我还好呦。';

function config(standin: TritonStandin | string, overrides: Partial<CosyVoiceTritonEngineConfig> = {}): CosyVoiceTritonEngineConfig {
  return cosyVoiceTritonEngineConfigSchema.parse({
    id: 'cv-trt',
    kind: 'cosyvoice-triton',
    generation: 2,
    model: 'CosyVoice2-0.5B (TensorRT-LLM)',
    url: typeof standin === 'string' ? standin : standin.url,
    ...(typeof standin === 'string' ? {} : { tritonModel: standin.model }),
    ...overrides,
  });
}

const input = (overrides: Partial<EngineInput> = {}): EngineInput => ({
  mode: 'zero_shot',
  text: TEXT,
  prompt: referenceVoice(3, 44100),
  promptText: TRANSCRIPT,
  speed: 1,
  ...overrides,
});

async function post(standin: TritonStandin, body: unknown): Promise<{ status: number; json: unknown }> {
  const response = await fetch(`${standin.url}/v2/models/${standin.model}/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.status, json: await response.json() };
}

describe('cosyvoice-triton engine against a stand-in Triton (cosyvoice2)', () => {
  let standin: TritonStandin;
  beforeAll(async () => {
    standin = await startTritonStandin({ model: 'cosyvoice2' });
  });
  afterAll(() => standin.close());

  it('describes itself: zero-shot only, not reproducible, 24 kHz; refuses CosyVoice 1 and other modes', () => {
    const engine = createCosyVoiceTritonEngine(config(standin));
    expect(engine.info).toMatchObject({ kind: 'cosyvoice-triton', modes: ['zero_shot'], reproducible: false, outputSampleRate: 24000 });
    expect(engine.info.stages.map((s) => s.name)).toEqual(['prompt_preparation', 'inference', 'encoding']);
    expect(() => createCosyVoiceTritonEngine(config(standin, { generation: 1 }))).toThrow(/serves CosyVoice 2 and 3 models only/);
    expect(() => createCosyVoiceTritonEngine(config(standin, { modes: ['zero_shot', 'instruct'] }))).toThrow(/instruct are not available/);
  });

  it('sends the KServe v2 request client_http.py sends, with the reference resampled to 16 kHz, and writes the 24 kHz waveform', async () => {
    const engine = createCosyVoiceTritonEngine(config(standin));
    const prompt = referenceVoice(3, 44100);
    const run = await runJob(engine, input({ prompt }));
    expect(run.error).toBeUndefined();
    const req = standin.last;
    expect(req.contentType).toBe('application/json');
    expect(req.status).toBe(200);
    const expected = await resample(prompt.samples, 44100, 16000);
    expect(req.inputs.reference_wav).toMatchObject({ datatype: 'FP32', shape: [1, 48000] });
    expect(expected.length).toBe(48000);
    for (let i = 0; i < expected.length; i += 501) expect(req.inputs.reference_wav!.data[i]).toBeCloseTo(expected[i]!, 6);
    expect(req.inputs.reference_wav_len).toEqual({ datatype: 'INT32', shape: [1, 1], data: [48000] });
    expect(req.inputs.reference_text).toEqual({ datatype: 'BYTES', shape: [1, 1], data: [TRANSCRIPT] });
    expect(req.inputs.target_text).toEqual({ datatype: 'BYTES', shape: [1, 1], data: [TEXT] });

    const decoded = decodeWav(run.output!.wav);
    expect(decoded.sampleRate).toBe(TRITON_OUTPUT_RATE);
    expect(run.output!.sampleRate).toBe(TRITON_OUTPUT_RATE);
    expect(decoded.channels[0]!.length).toBe(req.waveform!.length);
    expect(run.output!.durationMs).toBe(Math.round((req.waveform!.length / TRITON_OUTPUT_RATE) * 1000));
    expect(rms(decoded.channels[0]!)).toBeGreaterThan(0.1);
    for (let i = 0; i < req.waveform!.length; i += 997) expect(decoded.channels[0]![i]).toBeCloseTo(req.waveform![i]!, 4);

    expect(stages(run)).toEqual(['prompt_preparation', 'inference', 'encoding']);
    expectProgressEndsComplete(run);
    expect(run.events.filter((e) => e.type === 'progress').at(-1)).toEqual({ type: 'progress', step: 1000, total: 1000, etaMs: 0 });
    expect(logs(run, 'debug').some((m) => /progress until then is an estimate from the text length/.test(m))).toBe(true);
    expect(logs(run, 'info').some((m) => /not reproducible: the Triton model takes no seed/.test(m))).toBe(true);
    expect(logs(run, 'warn')).toEqual([]);
  });

  it('a reference already at 16 kHz goes as is; speed ≠ 1 and a missing transcript are warnings', async () => {
    const prompt = referenceVoice(2, 16000);
    const run = await runJob(createCosyVoiceTritonEngine(config(standin)), input({ prompt, promptText: undefined, speed: 0.8 }));
    expect(run.error).toBeUndefined();
    expect(standin.last.inputs.reference_wav!.shape).toEqual([1, 32000]);
    expect(standin.last.inputs.reference_wav!.data[1234]).toBeCloseTo(prompt.samples[1234]!, 6);
    expect(standin.last.inputs.reference_text!.data).toEqual(['']);
    expect(logs(run, 'warn')).toEqual([expect.stringMatching(/Speed 0\.8 is not applied/), expect.stringMatching(/No transcript/)]);
  });

  it('the stand-in checks like Triton: wrong datatype, shape, unknown input, short data → 400', async () => {
    const good = buildInferRequest(new Float32Array(1600).fill(0.1), 'a', 'b');
    expect((await post(standin, good)).status).toBe(200);
    const tweak = (i: number, patch: object): unknown => ({ inputs: good.inputs.map((x, j) => (j === i ? { ...x, ...patch } : x)) });
    expect(await post(standin, tweak(1, { datatype: 'INT64' }))).toEqual({ status: 400, json: { error: "inference input 'reference_wav_len' data-type is 'INT64', but model 'cosyvoice2' expects 'INT32'" } });
    expect(await post(standin, tweak(0, { shape: [1600], data: Array(1600).fill(0.1) }))).toEqual({
      status: 400,
      json: { error: "unexpected shape for input 'reference_wav' for model 'cosyvoice2'. Expected [-1,-1], got [1600]" },
    });
    expect((await post(standin, tweak(0, { name: 'prompt_wav' }))).json).toEqual({ error: "unexpected inference input 'prompt_wav' for model 'cosyvoice2'" });
    expect((await post(standin, tweak(0, { shape: [1, 1601] }))).status).toBe(400);
    expect((await post(standin, { inputs: good.inputs.slice(0, 3) })).json).toEqual({ error: "expected 4 inputs but got 3 inputs for model 'cosyvoice2'" });
  });

  it('probe: server ready, model ready and not decoupled → up; otherwise down with the reason', async () => {
    const engine = createCosyVoiceTritonEngine(config(standin));
    await expect(engine.probe!(new AbortController().signal)).resolves.toBeUndefined();
    const other = createCosyVoiceTritonEngine(config(standin, { tritonModel: 'cosyvoice3' }));
    await expect(other.probe!(new AbortController().signal)).rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE', message: expect.stringMatching(/no ready model "cosyvoice3" \(HTTP 400/) });
    standin.ready = false;
    try {
      await expect(engine.probe!(new AbortController().signal)).rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE', message: expect.stringMatching(/is not ready \(HTTP 400 on \/v2\/health\/ready\)/) });
    } finally {
      standin.ready = true;
    }
  });

  it('Triton’s {"error"} with CUDA out of memory → GPU_OOM', async () => {
    standin.failNext({ kind: 'backend-error', error: 'oom' });
    const run = await runJob(createCosyVoiceTritonEngine(config(standin)), input());
    expect(standin.last.status).toBe(500);
    expect(run.error).toMatchObject({ code: 'GPU_OOM', stage: 'inference' });
  });

  it('another backend error → ENGINE_FAILED with Triton’s message', async () => {
    standin.failNext({ kind: 'backend-error', error: 'other' });
    const run = await runJob(createCosyVoiceTritonEngine(config(standin)), input());
    expect(run.error).toMatchObject({ code: 'ENGINE_FAILED' });
    expect(run.error!.message).toBe("Triton failed (HTTP 500): Failed to process the request(s) for model 'cosyvoice2_0_0', message: TritonModelException: Generated IDs is None or empty.");
  });

  it('malformed answers → ENGINE_BAD_RESPONSE; an empty waveform → ENGINE_NO_AUDIO', async () => {
    const engine = createCosyVoiceTritonEngine(config(standin));
    standin.failNext({ kind: 'no-waveform' });
    expect((await runJob(engine, input())).error).toMatchObject({ code: 'ENGINE_BAD_RESPONSE', message: expect.stringMatching(/no "waveform" output \(outputs: none\)/) });
    standin.failNext({ kind: 'wrong-datatype' });
    expect((await runJob(engine, input())).error).toMatchObject({ code: 'ENGINE_BAD_RESPONSE', message: expect.stringMatching(/"waveform" is "FP16", not FP32/) });
    standin.failNext({ kind: 'not-json' });
    expect((await runJob(engine, input())).error).toMatchObject({ code: 'ENGINE_BAD_RESPONSE', message: expect.stringMatching(/not JSON/) });
    standin.failNext({ kind: 'empty-waveform' });
    expect((await runJob(engine, input())).error).toMatchObject({ code: 'ENGINE_NO_AUDIO' });
  });

  it('only zero-shot runs here', async () => {
    const run = await runJob(createCosyVoiceTritonEngine(config(standin)), { mode: 'cross_lingual', text: TEXT, prompt: referenceVoice(), speed: 1 });
    expect(run.error).toMatchObject({ code: 'MODE_UNSUPPORTED' });
  });
});

describe('cosyvoice-triton engine: CosyVoice 3 model and deployment problems', () => {
  it('cosyvoice3: reference_text carries the system prompt and marker the model would add itself', async () => {
    const standin = await startTritonStandin({ model: 'cosyvoice3' });
    try {
      const engine = createCosyVoiceTritonEngine(config(standin, { generation: 3, model: 'Fun-CosyVoice3-0.5B-2512' }));
      const run = await runJob(engine, input());
      expect(run.error).toBeUndefined();
      expect(standin.last.model).toBe('cosyvoice3');
      expect(standin.last.inputs.reference_text!.data).toEqual([`You are a helpful assistant.<|endofprompt|>${TRANSCRIPT}`]);
      expect(standin.last.inputs.target_text!.data).toEqual([TEXT]);
    } finally {
      await standin.close();
    }
  });

  it('a decoupled (streaming) deployment: probe says down, a job fails with how to fix it', async () => {
    const standin = await startTritonStandin({ decoupled: true });
    try {
      const engine = createCosyVoiceTritonEngine(config(standin));
      await expect(engine.probe!(new AbortController().signal)).rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE', hint: expect.stringMatching(/DECOUPLED_MODE=False/) });
      const run = await runJob(engine, input());
      expect(standin.last.status).toBe(501);
      expect(run.error).toMatchObject({ code: 'ENGINE_FAILED', message: expect.stringMatching(/decoupled transaction policy/), hint: expect.stringMatching(/DECOUPLED_MODE=False/) });
    } finally {
      await standin.close();
    }
  });

  it('a model repository without the batch dimension: Triton’s 400 shape error → ENGINE_REJECTED', async () => {
    const standin = await startTritonStandin({ maxBatchSize: 0 });
    try {
      const run = await runJob(createCosyVoiceTritonEngine(config(standin)), input());
      expect(run.error).toMatchObject({ code: 'ENGINE_REJECTED', stage: 'inference' });
      expect(run.error!.message).toMatch(/unexpected shape for input 'reference_wav'/);
    } finally {
      await standin.close();
    }
  });

  it('an answer slower than timeoutMs → ENGINE_TIMEOUT; estimated progress ticks meanwhile and the request is closed', async () => {
    const standin = await startTritonStandin({ inferDelayMs: 5000 });
    try {
      const run = await runJob(createCosyVoiceTritonEngine(config(standin, { timeoutMs: 700 })), input());
      expect(run.error).toMatchObject({ code: 'ENGINE_TIMEOUT', stage: 'inference' });
      const steps = run.events.flatMap((e) => (e.type === 'progress' ? [e.step] : []));
      expect(steps.length).toBeGreaterThan(1);
      expect(steps.every((s, i) => s < 1000 && (i === 0 || s >= steps[i - 1]!))).toBe(true);
      await standin.waitForAbort(1000);
    } finally {
      await standin.close();
    }
  });

  it('cancel aborts the request at once; Triton sees it closed', async () => {
    const standin = await startTritonStandin({ inferDelayMs: 10_000 });
    try {
      const controller = new AbortController();
      const engine = createCosyVoiceTritonEngine(config(standin));
      let abortedAt = 0;
      const pending = engine.run(input(), {
        seed: 7,
        signal: controller.signal,
        emit: (e) => {
          if (e.type === 'stage' && e.name === 'inference') {
            setTimeout(() => {
              abortedAt = performance.now();
              controller.abort();
            }, 200);
          }
        },
      });
      await expect(pending).rejects.toMatchObject({ code: 'CANCELED' });
      expect(performance.now() - abortedAt).toBeLessThan(200);
      await standin.waitForAbort(1000);
    } finally {
      await standin.close();
    }
  });

  it('nobody listening → ENGINE_UNAVAILABLE naming the URL; probe says down', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const engine = createCosyVoiceTritonEngine(config(url));
    const run = await runJob(engine, input());
    expect(run.error).toMatchObject({ code: 'ENGINE_UNAVAILABLE', stage: 'inference' });
    expect(run.error!.message).toBe(`Cannot reach Triton at ${url} (model cosyvoice2): connection refused (nothing listens on that port) (ECONNREFUSED).`);
    await expect(engine.probe!(new AbortController().signal)).rejects.toMatchObject({ code: 'ENGINE_UNAVAILABLE', message: expect.stringContaining(url) });
  });
});

describe('KServe v2 answer parsing', () => {
  it('accepts [1, M] and [M] FP32 waveforms and rejects mismatches', () => {
    const answer = (w: object): string => JSON.stringify({ model_name: 'cosyvoice2', model_version: '1', outputs: [{ name: 'waveform', datatype: 'FP32', ...w }] });
    expect(Array.from(parseWaveform(answer({ shape: [1, 3], data: [0.5, -0.25, 0] })))).toEqual([0.5, -0.25, 0]);
    expect(parseWaveform(answer({ shape: [2], data: [0.5, 0.25] }))).toHaveLength(2);
    expect(() => parseWaveform(answer({ shape: [1, 4], data: [0.5, 0.25] }))).toThrow(/shape \[1, 4\] but 2 values/);
    expect(() => parseWaveform(answer({ shape: [2, 1], data: [0.5, 0.25] }))).toThrow(/expected \[1, samples\]/);
    expect(() => parseWaveform(answer({ shape: [1, 2], data: [0.5, 'x'] }))).toThrow(/value 1 is "x"/);
    expect(() => parseWaveform(answer({ shape: [1, 2], parameters: { binary_data_size: 8 } }))).toThrow(/no JSON data/);
  });
});
