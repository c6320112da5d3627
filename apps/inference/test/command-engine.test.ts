import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { rms } from '../src/audio/levels.ts';
import { decodeWav, downmix } from '../src/audio/wav.ts';
import { EngineError, type Engine, type EngineEvent, type EngineInput, type EngineOutput, type PromptAudio } from '../src/engine/engine.ts';
import { createCommandEngine } from '../src/engines/command/index.ts';
import type { CommandJobDocument } from '../src/engines/command/job-document.ts';
import { commandEngineConfigSchema, type CommandEngineConfig } from '../src/engines/config.ts';
import { cosyVoiceCrossLingualText, cosyVoiceInstruction, cosyVoicePromptText } from '../src/engines/cosyvoice/cosyvoice-info.ts';

// The command engine is tested end to end: it spawns the real reference runner
// (runners/cosyvoice_runner.py) and small fixture scripts with python3. The `cosyvoice`
// package they import is a TEST DOUBLE (test/fixtures/fake-cosyvoice): there is no GPU or
// CosyVoice model here, so it mimics AutoModel's API, its tqdm bars and logging, and the
// real failure messages, and it makes seeded synthetic tones instead of speech.

const here = path.dirname(fileURLToPath(import.meta.url));
const RUNNER = path.resolve(here, '../runners/cosyvoice_runner.py');
const FAKE_COSYVOICE = path.join(here, 'fixtures/fake-cosyvoice');
const FIXTURES = path.join(here, 'fixtures/command');
const NO_NUMPY = path.join(FIXTURES, 'no-numpy');
const MODEL_DIRS = { 1: 'CosyVoice-300M-SFT', 2: 'CosyVoice2-0.5B', 3: 'Fun-CosyVoice3-0.5B' } as const;
const modelDir = (generation: 1 | 2 | 3): string => path.join(FIXTURES, 'models', MODEL_DIRS[generation]);
const PY_ENV = { PYTHONPATH: FAKE_COSYVOICE, PYTHONDONTWRITEBYTECODE: '1' };

// ---------------------------------------------------------------------------------------
// Helpers

/** The data directory's scratch space for these runs (a real Chorus passes `<dataDir>/scratch`). */
const scratchDir = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-scratch-'));

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close?.()));
});

function engineFor(fields: Record<string, unknown>): Engine {
  const config: CommandEngineConfig = commandEngineConfigSchema.parse({ id: 'cmd', kind: 'command', killGraceMs: 1000, ...fields });
  const engine = createCommandEngine(config, { scratchDir });
  engines.push(engine);
  return engine;
}

/** The reference runner on a fake model of the given generation. */
const runnerEngine = (generation: 1 | 2 | 3, fields: Record<string, unknown> = {}): Engine =>
  engineFor({
    generation,
    model: MODEL_DIRS[generation],
    command: ['python3', RUNNER, '--model-dir', modelDir(generation)],
    env: PY_ENV,
    speakers: [{ id: '中文女', name: 'Chinese female' }],
    ...fields,
  });

/** A fixture script (test/fixtures/command/<name>) as the command. */
const scriptEngine = (script: string, args: string[] = [], fields: Record<string, unknown> = {}): Engine =>
  engineFor({ generation: 2, model: 'fixture', command: ['python3', path.join(FIXTURES, script), ...args], env: PY_ENV, ...fields });

/** A deterministic "voice": a 200 Hz tone with a little noise. */
function prompt(sampleRate: number, seconds = 3): PromptAudio {
  const samples = new Float32Array(Math.round(sampleRate * seconds));
  let s = 12345;
  for (let i = 0; i < samples.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    samples[i] = 0.3 * Math.sin((2 * Math.PI * 200 * i) / sampleRate) + 0.01 * (s / 4294967296 - 0.5);
  }
  return { samples, sampleRate };
}

const TEXT = 'Hello there. This is a test! Another sentence?';
/** What the fake model makes of TEXT: 3 segments of max(0.3, 0.06 s per character) each. */
const TEXT_SECONDS = 0.06 * ('Hello there.'.length + 'This is a test!'.length + 'Another sentence?'.length);

interface Run {
  output: EngineOutput;
  events: EngineEvent[];
}

async function run(engine: Engine, input: Partial<EngineInput> & Pick<EngineInput, 'mode' | 'text'>, seed = 7, onEvent?: (e: EngineEvent) => void): Promise<Run> {
  const events: EngineEvent[] = [];
  const output = await engine.run(
    { speed: 1, ...input },
    {
      seed,
      signal: new AbortController().signal,
      emit: (e) => {
        events.push(e);
        onEvent?.(e);
      },
    },
  );
  return { output, events };
}

async function failure(promise: Promise<unknown>): Promise<EngineError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(EngineError);
  return err as EngineError;
}

/** Run expecting an EngineError; returns it with the events emitted on the way. */
async function runFailing(engine: Engine, input: Partial<EngineInput> & Pick<EngineInput, 'mode' | 'text'>): Promise<{ error: EngineError; events: EngineEvent[] }> {
  const events: EngineEvent[] = [];
  const error = await failure(engine.run({ speed: 1, ...input }, { seed: 1, signal: new AbortController().signal, emit: (e) => events.push(e) }));
  return { error, events };
}

const stages = (events: EngineEvent[]): string[] => events.flatMap((e) => (e.type === 'stage' ? [e.name] : []));
const logs = (events: EngineEvent[]) => events.flatMap((e) => (e.type === 'log' ? [e] : []));

/** Progress events with the stage they belong to. */
function progressByStage(events: EngineEvent[]): { stage: string | undefined; step: number; total: number; etaMs?: number | null }[] {
  let stage: string | undefined;
  const out = [];
  for (const e of events) {
    if (e.type === 'stage') stage = e.name;
    if (e.type === 'progress') out.push({ stage, step: e.step, total: e.total, etaMs: e.etaMs });
  }
  return out;
}

function expectMonotonicToEnd(events: EngineEvent[], stage = 'synthesis'): void {
  const progress = progressByStage(events).filter((p) => p.stage === stage);
  expect(progress.length).toBeGreaterThan(1);
  for (let i = 1; i < progress.length; i++) expect(progress[i]!.step / progress[i]!.total).toBeGreaterThanOrEqual(progress[i - 1]!.step / progress[i - 1]!.total);
  const last = progress.at(-1)!;
  expect(last.step).toBe(last.total);
}

/** Decode an output WAV and check it is real audio of the expected rate and length. */
function expectAudio(output: EngineOutput, sampleRate: number, seconds: number): Float32Array {
  const decoded = decodeWav(output.wav);
  expect(decoded.channels).toHaveLength(1);
  expect(decoded.sampleRate).toBe(sampleRate);
  expect(output.sampleRate).toBe(sampleRate);
  const samples = downmix(decoded.channels);
  expect(samples.length / sampleRate).toBeCloseTo(seconds, 2);
  expect(output.durationMs).toBeCloseTo((samples.length / sampleRate) * 1000, 6);
  expect(rms(samples)).toBeGreaterThan(0.05);
  return samples;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Gone means ESRCH, or a zombie: dead and only waiting for its parent (for an orphan, PID 1) to reap it. */
function isGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

async function waitUntil(condition: () => boolean, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(20);
  }
  return Date.now() - start;
}

/** Start a run of the fake model's HANG text; resolves once the command and its helper child are running. */
async function startHanging(engine: Engine, text: string) {
  const events: EngineEvent[] = [];
  const abort = new AbortController();
  const promise = engine.run({ mode: 'cross_lingual', text, prompt: prompt(16000), speed: 1 }, { seed: 1, signal: abort.signal, emit: (e) => events.push(e) });
  promise.catch(() => undefined);
  const pidFrom = (re: RegExp): number | undefined => {
    for (const l of logs(events)) {
      const m = re.exec(l.message);
      if (m) return Number(m[1]);
    }
    return undefined;
  };
  await waitUntil(() => pidFrom(/helper process pid (\d+)/) !== undefined, 10_000);
  return { promise, abort, events, runnerPid: pidFrom(/\(pid (\d+)\)/)!, helperPid: pidFrom(/helper process pid (\d+)/)! };
}

// ---------------------------------------------------------------------------------------

describe('command engine: info', () => {
  it('describes a CosyVoice engine with the runner’s stages', () => {
    const info = runnerEngine(3).info;
    expect(info).toMatchObject({ kind: 'command', outputSampleRate: 24000, reproducible: true, version: 'Fun-CosyVoice3-0.5B' });
    expect(info.stages.map((s) => s.name)).toEqual(['load_model', 'text_frontend', 'synthesis', 'encoding']);
    expect(info.modes).toEqual(['zero_shot', 'cross_lingual', 'instruct', 'pretrained']);
    const v1 = runnerEngine(1, { speakers: [] }).info;
    expect(v1.modes).toEqual(['zero_shot', 'cross_lingual']);
    expect(v1.outputSampleRate).toBe(22050);
  });
});

describe('command engine: the reference runner on the fake CosyVoice', () => {
  it('zero_shot on CosyVoice3: the runner adds <|endofprompt|>, stages and progress stream, the WARNING is a warn', async () => {
    const { output, events } = await run(runnerEngine(3), {
      mode: 'zero_shot',
      text: TEXT,
      prompt: prompt(16000),
      promptText: 'A transcript of the reference clip that is rather long.',
    });
    expectAudio(output, 24000, TEXT_SECONDS);
    expect(stages(events)).toEqual(['load_model', 'text_frontend', 'synthesis', 'encoding']);
    expectMonotonicToEnd(events);
    expect(progressByStage(events).filter((p) => p.stage === 'synthesis').map((p) => `${p.step}/${p.total}`)).toEqual(['0/3', '1/3', '2/3', '3/3']);
    const warn = logs(events).filter((l) => l.level === 'warn');
    expect(warn.some((l) => /synthesis text Hello there\. too short than prompt text You are a helpful assistant\.<\|endofprompt\|>A transcript/.test(l.message))).toBe(true);
    expect(logs(events).some((l) => l.level === 'info' && l.message === 'synthesis text This is a test!')).toBe(true);
    expect(logs(events).filter((l) => l.level === 'error')).toEqual([]);
  });

  it('cross_lingual on CosyVoice3 (the marker goes in front of the text, which CosyVoice then does not split)', async () => {
    const { output, events } = await run(runnerEngine(3), { mode: 'cross_lingual', text: TEXT, prompt: prompt(48000) });
    expectAudio(output, 24000, 0.06 * TEXT.length);
    expect(progressByStage(events).filter((p) => p.stage === 'synthesis').map((p) => `${p.step}/${p.total}`)).toEqual(['0/1', '1/1']);
  });

  it.each([2, 3] as const)('instruct on CosyVoice%i', async (generation) => {
    const { output, events } = await run(runnerEngine(generation), { mode: 'instruct', text: TEXT, prompt: prompt(22050), instruct: 'Speak cheerfully.' });
    expectAudio(output, 24000, TEXT_SECONDS);
    expectMonotonicToEnd(events);
  });

  it('pretrained on CosyVoice 1 at 22050 Hz, with speed', async () => {
    const { output, events } = await run(runnerEngine(1), { mode: 'pretrained', text: TEXT, speakerId: '中文女', speed: 2 });
    expectAudio(output, 22050, TEXT_SECONDS / 2);
    expectMonotonicToEnd(events);
  });

  it('same seed → same WAV bytes; another seed → other audio; numpy or not → same bytes', async () => {
    const engine = runnerEngine(2);
    const input = { mode: 'zero_shot', text: TEXT, prompt: prompt(16000), promptText: 'Short.' } as const;
    const [a, b, c] = await Promise.all([run(engine, input, 42), run(engine, input, 42), run(engine, input, 43)]);
    expect(sha256(a.output.wav)).toBe(sha256(b.output.wav));
    expect(sha256(a.output.wav)).not.toBe(sha256(c.output.wav));
    const stdlibOnly = runnerEngine(2, { env: { ...PY_ENV, PYTHONPATH: `${NO_NUMPY}${path.delimiter}${FAKE_COSYVOICE}` } });
    const d = await run(stdlibOnly, input, 42);
    expect(sha256(d.output.wav)).toBe(sha256(a.output.wav));
  });

  it('resamples (with a warning) when the model writes another rate than configured', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-fake-model-'));
    try {
      fs.writeFileSync(path.join(dir, 'cosyvoice2.yaml'), 'sample_rate: 16000\n');
      const engine = runnerEngine(2, { command: ['python3', RUNNER, '--model-dir', dir] });
      const { output, events } = await run(engine, { mode: 'cross_lingual', text: TEXT, prompt: prompt(16000) });
      expectAudio(output, 24000, TEXT_SECONDS);
      expect(logs(events).some((l) => l.level === 'warn' && /wrote 16000 Hz audio .* 24000 Hz; resampling/.test(l.message))).toBe(true);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads the model dir from COSYVOICE_MODEL_DIR too', async () => {
    const engine = runnerEngine(2, { command: ['python3', RUNNER], env: { ...PY_ENV, COSYVOICE_MODEL_DIR: modelDir(2) } });
    const { output } = await run(engine, { mode: 'cross_lingual', text: 'One sentence.', prompt: prompt(16000) });
    expectAudio(output, 24000, 0.06 * 'One sentence.'.length);
  });
});

describe('command engine: failures', () => {
  it('GPU_OOM from CUDA out of memory', async () => {
    const { error } = await runFailing(runnerEngine(2), { mode: 'cross_lingual', text: 'Fine. Then OOM here.', prompt: prompt(16000) });
    expect(error).toMatchObject({ code: 'GPU_OOM', stage: 'synthesis' });
  });

  it('PROMPT_SAMPLE_RATE for an 8 kHz prompt (CosyVoice’s load_wav assert)', async () => {
    const { error } = await runFailing(runnerEngine(2), { mode: 'cross_lingual', text: TEXT, prompt: prompt(8000) });
    expect(error.code).toBe('PROMPT_SAMPLE_RATE');
    expect(error.message).toMatch(/8000 Hz/);
  });

  it('PROMPT_TOO_LONG for a prompt over 30 s (the speech tokenizer assert)', async () => {
    const { error } = await runFailing(runnerEngine(3), { mode: 'zero_shot', text: TEXT, prompt: prompt(16000, 31), promptText: 'words' });
    expect(error.code).toBe('PROMPT_TOO_LONG');
  });

  it('PROMPT_FORMAT when a CosyVoice3 model gets no <|endofprompt|> (a script without the runner’s rule)', async () => {
    const engine = scriptEngine('cv3_without_marker.py', [modelDir(3)], { generation: 3 });
    const { error } = await runFailing(engine, { mode: 'zero_shot', text: TEXT, prompt: prompt(16000), promptText: 'A transcript.' });
    expect(error.code).toBe('PROMPT_FORMAT');
  });

  it('ENGINE_CRASHED for another exception: the traceback is ONE error event, the message names the exception', async () => {
    const { error, events } = await runFailing(runnerEngine(2), { mode: 'cross_lingual', text: 'Fine. CRASH now.', prompt: prompt(16000) });
    expect(error).toMatchObject({ code: 'ENGINE_CRASHED', stage: 'synthesis' });
    expect(error.message).toBe('python3 cosyvoice_runner.py exited with code 1: ValueError: fake flow decoder failed on purpose (CRASH in the text).');
    const tracebacks = logs(events).filter((l) => l.message.startsWith('Traceback'));
    expect(tracebacks).toHaveLength(1);
    expect(tracebacks[0]!.level).toBe('error');
    expect(tracebacks[0]!.message.startsWith('Traceback (most recent call last):')).toBe(true);
    expect(tracebacks[0]!.message.split('\n').at(-1)).toBe('ValueError: fake flow decoder failed on purpose (CRASH in the text)');
    expect(tracebacks[0]!.message).toMatch(/File ".*cosyvoice\.py", line \d+, in _tts/);
    expect(logs(events).some((l) => l.level === 'error' && l.message === 'failed during synthesis: ValueError: fake flow decoder failed on purpose (CRASH in the text)')).toBe(true);
    const last = logs(events).at(-1)!;
    expect(last.level).toBe('error');
    expect(last.message).toMatch(/^Last 20 line\(s\) of output from python3 cosyvoice_runner\.py:\n/);
  });

  it('ENGINE_CRASHED for a non-zero exit without a traceback, with the last 20 lines kept', async () => {
    const { error, events } = await runFailing(scriptEngine('die.py'), { mode: 'cross_lingual', text: TEXT, prompt: prompt(16000) });
    expect(error.code).toBe('ENGINE_CRASHED');
    expect(error.message).toBe('python3 die.py exited with code 3: line 30.');
    const last = logs(events).at(-1)!;
    expect(last.level).toBe('error');
    expect(last.message.split('\n').slice(1)).toEqual(Array.from({ length: 20 }, (_, i) => `line ${i + 11}`));
  });

  it('ENGINE_CRASHED when the command exits 0 without writing audio', async () => {
    const { error } = await runFailing(scriptEngine('no_wav.py'), { mode: 'cross_lingual', text: TEXT, prompt: prompt(16000) });
    expect(error.code).toBe('ENGINE_CRASHED');
    expect(error.message).toMatch(/^python3 no_wav\.py exited 0 but wrote no audio/);
  });

  it('ENGINE_UNAVAILABLE when the program does not exist (and probe says so without running anything)', async () => {
    for (const program of ['/nonexistent/chorus-runner', 'chorus-no-such-program']) {
      const engine = engineFor({ generation: 2, model: 'm', command: [program, '--x'] });
      const { error } = await runFailing(engine, { mode: 'cross_lingual', text: TEXT, prompt: prompt(16000) });
      expect(error.code).toBe('ENGINE_UNAVAILABLE');
      expect(error.message).toContain(program);
      const probe = await failure(engine.probe!(AbortSignal.timeout(5000)));
      expect(probe.code).toBe('ENGINE_UNAVAILABLE');
      expect(probe.message).toContain(program);
    }
  });

  it('ENGINE_TIMEOUT: the command is stopped, with its children, before the run rejects', async () => {
    const engine = runnerEngine(2, { timeoutMs: 3000, killGraceMs: 300 });
    const hanging = await startHanging(engine, 'Please HANG here.');
    const error = await failure(hanging.promise);
    expect(error).toMatchObject({ code: 'ENGINE_TIMEOUT', stage: 'synthesis' });
    expect(error.hint).toMatch(/timeoutMs/);
    expect(isGone(hanging.runnerPid)).toBe(true);
    expect(isGone(hanging.helperPid)).toBe(true);
  });
});

describe('command engine: cancel and close', () => {
  it('cancel rejects at once with CANCELED, and the command and its child are gone within killGraceMs', async () => {
    const engine = runnerEngine(2, { killGraceMs: 1000 });
    const hanging = await startHanging(engine, 'Please HANG here.');
    expect(isGone(hanging.runnerPid)).toBe(false);
    const t0 = Date.now();
    hanging.abort.abort();
    const error = await failure(hanging.promise);
    expect(error.code).toBe('CANCELED');
    expect(Date.now() - t0).toBeLessThan(500);
    // SIGTERM ends both at once: no need to wait for the SIGKILL.
    await waitUntil(() => isGone(hanging.runnerPid) && isGone(hanging.helperPid), 1000 + 1500);
  });

  it('a command that ignores SIGTERM gets SIGKILL after killGraceMs', async () => {
    const engine = runnerEngine(2, { killGraceMs: 800 });
    const hanging = await startHanging(engine, 'Please HANG_HARD here.');
    hanging.abort.abort();
    expect((await failure(hanging.promise)).code).toBe('CANCELED');
    await sleep(400);
    expect(isGone(hanging.helperPid)).toBe(false); // SIGTERM was ignored
    await waitUntil(() => isGone(hanging.runnerPid) && isGone(hanging.helperPid), 800 + 1500);
  });

  it('close() ends running commands and waits until they are gone', async () => {
    const engine = runnerEngine(2, { killGraceMs: 500 });
    const hanging = await startHanging(engine, 'Please HANG here.');
    await engine.close!();
    expect((await failure(hanging.promise)).code).toBe('CANCELED');
    expect(isGone(hanging.runnerPid)).toBe(true);
    expect(isGone(hanging.helperPid)).toBe(true);
    expect((await runFailing(engine, { mode: 'cross_lingual', text: TEXT, prompt: prompt(16000) })).error.code).toBe('ENGINE_UNAVAILABLE');
  });
});

describe('command engine: other commands', () => {
  it('speaks the @chorus protocol, warns about malformed lines, maps log formats and collapses a chained traceback', async () => {
    const engine = scriptEngine('protocol_script.py');
    let job: CommandJobDocument | undefined;
    let promptRate: number | undefined;
    const { output, events } = await run(engine, { mode: 'zero_shot', text: 'Some text.', prompt: prompt(44100, 2), promptText: 'Transcript.' }, 99, (e) => {
      if (e.type === 'log' && e.message.startsWith('job ')) {
        job = JSON.parse(e.message.slice(4)) as CommandJobDocument;
        promptRate = decodeWav(fs.readFileSync(job.prompt_wav!)).sampleRate; // it exists while the command runs
      }
    });
    expectAudio(output, 24000, 1);

    // The job document contract, verbatim texts, and the prompt at its own rate.
    expect(job).toEqual({
      version: 1,
      mode: 'zero_shot',
      text: 'Some text.',
      prompt_wav: expect.stringMatching(/prompt\.wav$/),
      prompt_text: 'Transcript.',
      instruct: null,
      speaker_id: null,
      speed: 1,
      seed: 99,
      output_wav: expect.stringMatching(/output\.wav$/),
      generation: 2,
      model: 'fixture',
      sample_rate: 24000,
    });
    expect(promptRate).toBe(44100);
    // The voice was written inside the scratch dir it was given (not the shared temp dir), then removed.
    expect(path.dirname(path.dirname(job!.prompt_wav!))).toBe(scratchDir);
    expect(fs.existsSync(path.dirname(job!.prompt_wav!))).toBe(false);

    expect(stages(events)).toEqual(['load_model', 'synthesis', 'encoding']);
    const all = logs(events);
    const malformed = all.filter((l) => l.message.startsWith('Ignored a malformed @chorus line'));
    expect(malformed.map((l) => l.level)).toEqual(['warn', 'warn']);
    expect(malformed[0]!.message).toContain('@chorus {"type":"progress","step":1}');
    expect(malformed[1]!.message).toContain('@chorus not json');
    const levelOf = (message: string) => all.find((l) => l.message === message)?.level;
    expect(levelOf('some.lib: default-format warning')).toBe('warn');
    expect(levelOf('asctime-format error')).toBe('error');
    expect(levelOf('bracketed debug')).toBe('debug');
    expect(levelOf('a bare stderr line')).toBe('info');
    expect(levelOf('a bare stdout line')).toBe('info');
    expect(levelOf('after the traceback')).toBe('info');
    const tracebacks = all.filter((l) => l.message.startsWith('Traceback'));
    expect(tracebacks).toHaveLength(1);
    expect(tracebacks[0]!.level).toBe('error');
    expect(tracebacks[0]!.message).toMatch(/KeyError: 'missing'\n\nThe above exception was the direct cause of the following exception:\n\nTraceback[\s\S]*RuntimeError: wrapped failure$/);

    // tqdm inside a declared stage is that stage's progress; explicit progress passes as is.
    expect(progressByStage(events)).toEqual([
      ...[0, 1, 2, 3, 4].map((n) => ({ stage: 'synthesis', step: n, total: 4, etaMs: n === 0 ? 4000 : (4 - n) * 1000 })),
      { stage: 'encoding', step: 1, total: 2, etaMs: 500 },
      { stage: 'encoding', step: 2, total: 2, etaMs: 0 },
    ]);
  });

  it('a plain script (tqdm bars and prints, no @chorus) gets implicit stages, progress and leveled logs', async () => {
    const engine = scriptEngine('plain_script.py', [modelDir(2)]);
    const { output, events } = await run(engine, { mode: 'zero_shot', text: TEXT, prompt: prompt(16000), promptText: 'A transcript long enough to warn about.' });
    expectAudio(output, 24000, TEXT_SECONDS);
    expect(stages(events)).toEqual(['synthesis', 'encoding']);
    expectMonotonicToEnd(events);
    expect(progressByStage(events).map((p) => `${p.step}/${p.total}`)).toEqual(['0/3', '1/3', '2/3', '3/3']);
    const all = logs(events);
    expect(all.find((l) => l.message.startsWith('loading model from'))?.level).toBe('info');
    expect(all.find((l) => l.message.startsWith('done:'))?.level).toBe('info');
    expect(all.find((l) => l.message.startsWith('synthesis text Hello there.'))?.level).toBe('warn');
    expect(all.find((l) => l.message === 'synthesis text Hello there.')?.level).toBe('info');
  });

  it('probe finds the program on PATH or relative to cwd, and never runs it', async () => {
    await runnerEngine(2).probe!(AbortSignal.timeout(5000));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-probe-'));
    try {
      fs.writeFileSync(path.join(dir, 'run.sh'), `#!/bin/sh\ntouch "${path.join(dir, 'ran')}"\n`, { mode: 0o755 });
      fs.writeFileSync(path.join(dir, 'plain.txt'), 'not a program', { mode: 0o644 });
      await engineFor({ generation: 2, model: 'm', cwd: dir, command: ['./run.sh'] }).probe!(AbortSignal.timeout(5000));
      expect(fs.existsSync(path.join(dir, 'ran'))).toBe(false);
      const notExecutable = await failure(engineFor({ generation: 2, model: 'm', cwd: dir, command: ['./plain.txt'] }).probe!(AbortSignal.timeout(5000)));
      expect(notExecutable.message).toMatch(/not executable/);
      const noCwd = await failure(engineFor({ generation: 2, model: 'm', cwd: path.join(dir, 'missing'), command: ['python3'] }).probe!(AbortSignal.timeout(5000)));
      expect(noCwd.message).toMatch(/working directory .* does not exist/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the runner’s <|endofprompt|> rule', () => {
  it('is the same rule as cosyvoice-info.ts', () => {
    const texts = ['Hello.', 'You are a helpful assistant.<|endofprompt|>Hi.', 'Speak slowly', ''];
    const cases = ([1, 2, 3] as const).flatMap((g) => texts.map((t) => [g, t] as const));
    const script = [
      'import json, sys',
      `sys.path.insert(0, ${JSON.stringify(path.dirname(RUNNER))})`,
      'import cosyvoice_runner as r',
      'print(json.dumps([[r.prompt_text_for(g, t), r.instruction_for(g, t), r.cross_lingual_text_for(g, t)] for g, t in json.load(sys.stdin)]))',
    ].join('\n');
    const result = spawnSync('python3', ['-c', script], { input: JSON.stringify(cases), encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } });
    expect(result.stderr).toBe('');
    expect(JSON.parse(result.stdout)).toEqual(cases.map(([g, t]) => [cosyVoicePromptText(g, t), cosyVoiceInstruction(g, t), cosyVoiceCrossLingualText(g, t)]));
  });
});
