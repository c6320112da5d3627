import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineInfoSchema } from '@chorus/api/schemas';
import { rms } from '../src/audio/levels.ts';
import { PITCH_ANALYSIS_RATE, estimatePitch, toPitchAnalysisRate } from '../src/audio/pitch.ts';
import { detectSpeechActivity, speechRms } from '../src/audio/speech-activity.ts';
import { decodeWav, downmix } from '../src/audio/wav.ts';
import { EngineError, type Engine, type EngineEvent, type EngineInput, type EngineOutput, type PromptAudio } from '../src/engine/engine.ts';
import { createBuiltinEngine } from '../src/engines/builtin/index.ts';

// ---------------------------------------------------------------------------------------
// Helpers

/** Deterministic noise for test signals. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

/**
 * A vowel-like reference "voice" with a known F0: a harmonic source with two formant
 * bumps, slow F0 drift (±6%), a 4 Hz syllable envelope and a pause in the middle. Made
 * here, independent of eSpeak, so the pitch test has a ground truth.
 */
function vowelLikeVoice(f0: number, sampleRate: number, seconds = 4): PromptAudio {
  const samples = new Float32Array(Math.round(sampleRate * seconds));
  const noise = lcg(f0 * 7919);
  const formant = (f: number): number => 1 + 2 * Math.exp(-(((f - 700) / 200) ** 2)) + 1.5 * Math.exp(-(((f - 1200) / 250) ** 2));
  let phase = 0;
  for (let i = 0; i < samples.length; i++) {
    const t = i / sampleRate;
    const f = f0 * (1 + 0.06 * Math.sin(2 * Math.PI * 0.5 * t));
    phase += (2 * Math.PI * f) / sampleRate;
    let v = 0;
    for (let h = 1; h * f < 4000; h++) v += (Math.sin(h * phase) / h) * formant(h * f);
    const syllable = Math.max(0, Math.sin(Math.PI * ((t * 4) % 1))) ** 0.6;
    const inPause = t > seconds * 0.45 && t < seconds * 0.55;
    samples[i] = inPause ? 0.0005 * noise() : 0.12 * v * syllable + 0.001 * noise();
  }
  return { samples, sampleRate };
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Median F0 of a WAV file (YIN on an 8 kHz copy, speech frames only). */
async function medianF0(wav: Uint8Array): Promise<number> {
  const decoded = decodeWav(wav);
  const low = await toPitchAnalysisRate(downmix(decoded.channels), decoded.sampleRate);
  const f0 = estimatePitch(low, PITCH_ANALYSIS_RATE, detectSpeechActivity(low, PITCH_ANALYSIS_RATE)).medianHz;
  if (f0 === null) throw new Error('no pitch found in output');
  return f0;
}

interface Run {
  output: EngineOutput;
  events: EngineEvent[];
  logs: { level: string; message: string }[];
}

type TestInput = Partial<EngineInput> & Pick<EngineInput, 'mode' | 'text'>;

async function run(engine: Engine, input: TestInput, seed = 1): Promise<Run> {
  const events: EngineEvent[] = [];
  const output = await engine.run({ speed: 1, ...input }, { seed, signal: new AbortController().signal, emit: (e) => events.push(e) });
  const logs = events.flatMap((e) => (e.type === 'log' ? [{ level: e.level, message: e.message }] : []));
  return { output, events, logs };
}

async function rejection(promise: Promise<unknown>): Promise<EngineError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EngineError);
  return err as EngineError;
}

// ---------------------------------------------------------------------------------------

const EN_TEXT = 'The quick brown fox jumps over the lazy dog. Then it runs home, happy and tired.';
const ZH_TEXT = '今天天气很好，我们一起去公园散步吧。明天再见！';
const LOW = vowelLikeVoice(95, 16000);
const HIGH = vowelLikeVoice(250, 44100);
const LOW_TRANSCRIPT = 'la la la la, la la la la la la la la';

let engine: Engine;

beforeAll(async () => {
  engine = await createBuiltinEngine();
});

afterAll(async () => {
  await engine?.close?.();
});

describe('built-in engine info', () => {
  it('declares a valid, default, reproducible engine with all four modes', () => {
    const info = engineInfoSchema.parse(engine.info);
    expect(info.id).toBe('builtin');
    expect(info.kind).toBe('builtin');
    expect(info.default).toBe(true);
    expect(info.reproducible).toBe(true);
    expect(info.outputSampleRate).toBe(24000);
    expect(info.version).toMatch(/espeak-ng-1\.52/);
    expect([...info.modes].sort()).toEqual(['cross_lingual', 'instruct', 'pretrained', 'zero_shot']);
    expect(info.stages.map((s) => s.name)).toEqual(['prompt_analysis', 'text_frontend', 'synthesis', 'voice_matching', 'encoding']);
    expect(info.limits).toMatchObject({ promptMinMs: 1000, promptMaxMs: 30000, promptMinSampleRate: 16000, promptPreferredSampleRate: 22050, speedMin: 0.5, speedMax: 2 });
    expect(info.instructVocabulary).toEqual(expect.arrayContaining(['gentle', '温柔', 'slow', '慢', 'whisper', '耳语']));
    expect(info.speakers.length).toBeGreaterThanOrEqual(4);
  });
});

describe('reproducibility', () => {
  it('gives byte-identical WAVs for the same inputs and seed, different bytes for another seed', async () => {
    const input: TestInput = { mode: 'zero_shot', text: EN_TEXT, prompt: HIGH, promptText: LOW_TRANSCRIPT };
    const a = await run(engine, input, 1234);
    const b = await run(engine, input, 1234);
    const c = await run(engine, input, 1235);
    expect(sha256(a.output.wav)).toBe(sha256(b.output.wav));
    expect(sha256(c.output.wav)).not.toBe(sha256(a.output.wav));
  });

  it('is reproducible for breathy (female) voices and across threads', async () => {
    const input: TestInput = { mode: 'pretrained', text: ZH_TEXT, speakerId: 'zh-female' };
    const inWorker = await run(engine, input, 99);
    const mainThread = await createBuiltinEngine({ thread: 'main-thread' });
    const inMain = await run(mainThread, input, 99);
    expect(sha256(inMain.output.wav)).toBe(sha256(inWorker.output.wav));
  });
});

describe('output audio', () => {
  it.each([
    ['English', EN_TEXT],
    ['Chinese', ZH_TEXT],
  ])('%s: a 24 kHz mono 16-bit WAV, not silent, with a plausible duration', async (_name, text) => {
    const { output } = await run(engine, { mode: 'cross_lingual', text, prompt: LOW });
    const view = new DataView(output.wav.buffer, output.wav.byteOffset, output.wav.byteLength);
    expect(String.fromCharCode(...output.wav.subarray(0, 4))).toBe('RIFF');
    expect(view.getUint16(20, true)).toBe(1); // PCM
    expect(view.getUint16(22, true)).toBe(1); // mono
    expect(view.getUint32(24, true)).toBe(24000);
    expect(view.getUint16(34, true)).toBe(16);
    const decoded = decodeWav(output.wav);
    expect(decoded.sampleRate).toBe(24000);
    expect(decoded.channels).toHaveLength(1);
    const samples = decoded.channels[0]!;
    expect(output.sampleRate).toBe(24000);
    expect(output.durationMs).toBeCloseTo((samples.length / 24000) * 1000, 0);
    expect(rms(samples)).toBeGreaterThan(0.01);
    const perChar = output.durationMs / 1000 / [...text].length;
    expect(perChar).toBeGreaterThan(0.04);
    expect(perChar).toBeLessThan(0.5);
  });

  it('applies speed: 0.5 is much longer than 2.0', async () => {
    const slow = await run(engine, { mode: 'cross_lingual', text: EN_TEXT, prompt: LOW, speed: 0.5 });
    const fast = await run(engine, { mode: 'cross_lingual', text: EN_TEXT, prompt: LOW, speed: 2 });
    expect(slow.output.durationMs).toBeGreaterThan(fast.output.durationMs * 2.5);
  });

  it('escapes SSML markup characters instead of interpreting them', async () => {
    const plain = await run(engine, { mode: 'pretrained', text: 'Fish and chips, salt and pepper.', speakerId: 'en-male' });
    const marked = await run(engine, { mode: 'pretrained', text: 'Fish & chips <b>salt</b> & pepper.', speakerId: 'en-male' });
    expect(rms(decodeWav(marked.output.wav).channels[0]!)).toBeGreaterThan(0.01);
    // "<b>" is read out rather than swallowed as a tag, so the result is not shorter.
    expect(marked.output.durationMs).toBeGreaterThan(plain.output.durationMs * 0.8);
  });
});

describe('voice matching', () => {
  it('moves the output pitch toward a low vs a high reference voice', async () => {
    const low = await run(engine, { mode: 'cross_lingual', text: EN_TEXT, prompt: LOW }, 5);
    const high = await run(engine, { mode: 'cross_lingual', text: EN_TEXT, prompt: HIGH }, 5);
    const f0Low = await medianF0(low.output.wav);
    const f0High = await medianF0(high.output.wav);
    expect(f0High).toBeGreaterThan(f0Low * 1.6);
    const distance = (a: number, b: number): number => Math.abs(Math.log(a / b));
    expect(distance(f0Low, 95)).toBeLessThan(distance(f0Low, 250));
    expect(distance(f0High, 250)).toBeLessThan(distance(f0High, 95));
    // Within ~3 semitones of the reference.
    expect(distance(f0Low, 95)).toBeLessThan(0.18);
    expect(distance(f0High, 250)).toBeLessThan(0.18);
  });

  it('matches the loudness of the reference speech', async () => {
    const speechLevel = (samples: Float32Array, sampleRate: number): number => 20 * Math.log10(speechRms(detectSpeechActivity(samples, sampleRate)));
    for (const [prompt, gain] of [
      [LOW, 1],
      [HIGH, 0.3],
    ] as const) {
      const quieter = { samples: prompt.samples.map((x) => x * gain), sampleRate: prompt.sampleRate };
      const { output } = await run(engine, { mode: 'cross_lingual', text: EN_TEXT, prompt: quieter });
      const decoded = decodeWav(output.wav);
      const difference = speechLevel(decoded.channels[0]!, decoded.sampleRate) - speechLevel(quieter.samples, quieter.sampleRate);
      expect(Math.abs(difference)).toBeLessThan(2);
    }
  });

  it('logs the measured reference voice', async () => {
    const { logs } = await run(engine, { mode: 'zero_shot', text: EN_TEXT, prompt: LOW, promptText: LOW_TRANSCRIPT });
    const reference = logs.find((l) => l.message.startsWith('Reference voice:'));
    expect(reference?.message).toMatch(/median F0 9\d Hz/);
    // 16 kHz is accepted but below the preferred 22.05 kHz.
    expect(logs.some((l) => l.level === 'warn' && l.message.includes('16000 Hz'))).toBe(true);
  });
});

describe('modes', () => {
  const cases: [string, TestInput][] = [
    ['zero_shot en', { mode: 'zero_shot', text: EN_TEXT, prompt: LOW, promptText: LOW_TRANSCRIPT }],
    ['zero_shot zh', { mode: 'zero_shot', text: ZH_TEXT, prompt: HIGH, promptText: '啦啦啦啦，啦啦啦啦啦啦啦啦' }],
    ['cross_lingual en', { mode: 'cross_lingual', text: EN_TEXT, prompt: HIGH }],
    ['cross_lingual zh', { mode: 'cross_lingual', text: ZH_TEXT, prompt: LOW }],
    ['instruct en', { mode: 'instruct', text: EN_TEXT, prompt: LOW, instruct: 'Say it gently and calmly.' }],
    ['instruct zh', { mode: 'instruct', text: ZH_TEXT, prompt: HIGH, instruct: '用开心的语气说' }],
    ['pretrained en', { mode: 'pretrained', text: EN_TEXT, speakerId: 'en-female' }],
    ['pretrained zh', { mode: 'pretrained', text: ZH_TEXT, speakerId: 'zh-male' }],
  ];
  it.each(cases)('%s produces speech', async (_name, input) => {
    const { output, logs } = await run(engine, input);
    const samples = decodeWav(output.wav).channels[0]!;
    expect(rms(samples)).toBeGreaterThan(0.01);
    const perChar = output.durationMs / 1000 / [...input.text].length;
    expect(perChar).toBeGreaterThan(0.04);
    expect(perChar).toBeLessThan(0.5);
    expect(logs.some((l) => l.level === 'error')).toBe(false);
  });

  it('mixes English words into Chinese text', async () => {
    const { output } = await run(engine, { mode: 'pretrained', text: '我喜欢用 Python 写代码。', speakerId: 'zh-female' });
    expect(rms(decodeWav(output.wav).channels[0]!)).toBeGreaterThan(0.01);
  });
});

describe('instruct mode', () => {
  it.each([
    ['English', EN_TEXT, 'speak slowly', 'speak fast'],
    ['Chinese', ZH_TEXT, '慢一点说', '快一点说'],
  ])('%s: a slow instruction gives a longer file than a fast one', async (_name, text, slow, fast) => {
    const a = await run(engine, { mode: 'instruct', text, prompt: HIGH, instruct: slow }, 3);
    const b = await run(engine, { mode: 'instruct', text, prompt: HIGH, instruct: fast }, 3);
    expect(a.output.durationMs).toBeGreaterThan(b.output.durationMs * 1.2);
  });

  it('changes pitch for "deep" vs "high"', async () => {
    const deep = await run(engine, { mode: 'instruct', text: EN_TEXT, prompt: LOW, instruct: 'a deep voice' }, 3);
    const high = await run(engine, { mode: 'instruct', text: EN_TEXT, prompt: LOW, instruct: 'a high voice' }, 3);
    expect(await medianF0(high.output.wav)).toBeGreaterThan((await medianF0(deep.output.wav)) * 1.2);
  });

  it('warns about the parts of an instruction it cannot follow, in either language', async () => {
    const en = await run(engine, { mode: 'instruct', text: EN_TEXT, prompt: LOW, instruct: 'speak like a pirate, but gently' });
    expect(en.logs).toContainEqual({ level: 'warn', message: "Instruction words not understood and ignored: 'like a pirate'." });
    expect(en.logs.some((l) => l.message === 'Style: gentle.')).toBe(true);
    const zh = await run(engine, { mode: 'instruct', text: ZH_TEXT, prompt: LOW, instruct: '像海盗一样说话' });
    expect(zh.logs.some((l) => l.level === 'warn' && l.message.includes("'像海盗一样'"))).toBe(true);
  });

  it('whispers without trying to match a pitch', async () => {
    const { output, logs } = await run(engine, { mode: 'instruct', text: EN_TEXT, prompt: LOW, instruct: 'whisper' });
    expect(rms(decodeWav(output.wav).channels[0]!)).toBeGreaterThan(0.003);
    expect(logs.some((l) => l.message.includes('unvoiced (whisper)'))).toBe(true);
  });
});

describe('pretrained speakers', () => {
  it('has working female and male voices, the female ones higher', async () => {
    const f0 = async (speakerId: string, text: string): Promise<number> => medianF0((await run(engine, { mode: 'pretrained', text, speakerId })).output.wav);
    expect(await f0('zh-female', ZH_TEXT)).toBeGreaterThan((await f0('zh-male', ZH_TEXT)) * 1.4);
    expect(await f0('en-female', EN_TEXT)).toBeGreaterThan((await f0('en-male', EN_TEXT)) * 1.4);
  });

  it('rejects an unknown speaker with a clear error listing the valid ones', async () => {
    const err = await rejection(run(engine, { mode: 'pretrained', text: EN_TEXT, speakerId: 'nobody' }));
    expect(err.code).toBe('UNKNOWN_SPEAKER');
    expect(err.message).toContain('"nobody"');
    for (const s of engine.info.speakers) expect(err.message).toContain(s.id);
  });
});

describe('input errors', () => {
  it('needs reference audio outside pretrained mode', async () => {
    const err = await rejection(run(engine, { mode: 'zero_shot', text: EN_TEXT, promptText: 'hello' }));
    expect(err.code).toBe('PROMPT_REQUIRED');
    expect(err.stage).toBe('prompt_analysis');
  });

  it('rejects a too-short or silent reference', async () => {
    const short = vowelLikeVoice(120, 22050, 0.5);
    expect((await rejection(run(engine, { mode: 'cross_lingual', text: EN_TEXT, prompt: short }))).code).toBe('PROMPT_TOO_SHORT');
    const silent = { samples: new Float32Array(22050 * 3), sampleRate: 22050 };
    expect((await rejection(run(engine, { mode: 'cross_lingual', text: EN_TEXT, prompt: silent }))).code).toBe('PROMPT_NO_SPEECH');
  });

  it('rejects text with nothing to speak', async () => {
    expect((await rejection(run(engine, { mode: 'pretrained', text: '… ！？', speakerId: 'en-male' }))).code).toBe('TEXT_EMPTY');
  });
});

describe('events', () => {
  it('reports stages in the declared order and monotonic progress ending at total', async () => {
    const longer = `${EN_TEXT} ${EN_TEXT} Short one. And a last sentence to end with.`;
    const { events } = await run(engine, { mode: 'zero_shot', text: longer, prompt: LOW, promptText: LOW_TRANSCRIPT });
    const stages = events.flatMap((e) => (e.type === 'stage' ? [e.name] : []));
    expect(stages).toEqual(engine.info.stages.map((s) => s.name));

    const progress = events.flatMap((e) => (e.type === 'progress' ? [e] : []));
    expect(progress.length).toBeGreaterThan(2);
    const total = progress[0]!.total;
    expect(total).toBeGreaterThan(1);
    for (const [i, p] of progress.entries()) {
      expect(p.total).toBe(total);
      if (i > 0) expect(p.step).toBeGreaterThanOrEqual(progress[i - 1]!.step);
      if (p.etaMs != null) expect(p.etaMs).toBeGreaterThanOrEqual(0);
    }
    expect(progress[progress.length - 1]!.step).toBe(total);
    // Progress belongs to the synthesis stage.
    const synthesisAt = events.findIndex((e) => e.type === 'stage' && e.name === 'synthesis');
    const matchingAt = events.findIndex((e) => e.type === 'stage' && e.name === 'voice_matching');
    for (const p of progress) {
      const at = events.indexOf(p);
      expect(at).toBeGreaterThan(synthesisAt);
      expect(at).toBeLessThan(matchingAt);
    }
  });

  it('keeps the same stage list in pretrained mode', async () => {
    const { events, logs } = await run(engine, { mode: 'pretrained', text: EN_TEXT, speakerId: 'en-male' });
    expect(events.flatMap((e) => (e.type === 'stage' ? [e.name] : []))).toEqual(engine.info.stages.map((s) => s.name));
    expect(logs.some((l) => l.message.includes('no reference audio is used'))).toBe(true);
  });
});

describe('cancel', () => {
  it('rejects with CANCELED within 1 s of an abort mid-run, and the engine keeps working', async () => {
    const text = Array.from({ length: 12 }, () => '这是一个用来测试取消功能的很长的句子，它会被分成好几段。').join('').slice(0, 1000);
    const controller = new AbortController();
    let abortedAt = 0;
    const job = engine.run(
      { mode: 'cross_lingual', text, prompt: HIGH, speed: 1 },
      {
        seed: 1,
        signal: controller.signal,
        emit: (e) => {
          if (e.type === 'progress' && e.step === 1 && abortedAt === 0) {
            abortedAt = performance.now();
            controller.abort();
          }
        },
      },
    );
    const err = await rejection(job);
    const latency = performance.now() - abortedAt;
    expect(abortedAt).toBeGreaterThan(0);
    expect(err.code).toBe('CANCELED');
    expect(latency).toBeLessThan(1000);

    const after = await run(engine, { mode: 'pretrained', text: 'Still working.', speakerId: 'en-male' });
    expect(after.output.durationMs).toBeGreaterThan(300);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const err = await rejection(engine.run({ mode: 'pretrained', text: EN_TEXT, speakerId: 'en-male', speed: 1 }, { seed: 1, signal: controller.signal, emit: () => undefined }));
    expect(err.code).toBe('CANCELED');
  });
});
