import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { redactLogMessage } from '@chorus/api';
import { afterEach, describe, expect, it } from 'vitest';
import type { Engine, EngineEvent, PromptAudio } from '../src/engine/engine.ts';
import { createCommandEngine } from '../src/engines/command/index.ts';
import { commandEngineConfigSchema } from '../src/engines/config.ts';

// The log lines a non-admin would see, straight from the command engine: the reference runner
// on the fake CosyVoice (see command-engine.test.ts) crashing in synthesis, so the log holds
// the "Started <argv> (pid N)." line, the runner's logging, a traceback and the last lines.

const here = path.dirname(fileURLToPath(import.meta.url));
const RUNNER = path.resolve(here, '../runners/cosyvoice_runner.py');
const FIXTURES = path.join(here, 'fixtures/command');
const MODEL_DIR = path.join(FIXTURES, 'models', 'CosyVoice2-0.5B');
const PY_ENV = { PYTHONPATH: path.join(here, 'fixtures/fake-cosyvoice'), PYTHONDONTWRITEBYTECODE: '1' };

const engines: Engine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.close?.()));
});

const tone = (sampleRate: number, seconds: number): PromptAudio => {
  const samples = new Float32Array(sampleRate * seconds);
  for (let i = 0; i < samples.length; i++) samples[i] = 0.3 * Math.sin((2 * Math.PI * 200 * i) / sampleRate);
  return { samples, sampleRate };
};

async function failingRunLogs(fields: Record<string, unknown>, text: string): Promise<string[]> {
  const engine = createCommandEngine(commandEngineConfigSchema.parse({ id: 'cmd', kind: 'command', killGraceMs: 1000, generation: 2, model: 'CosyVoice2-0.5B', env: PY_ENV, ...fields }), { scratchDir: os.tmpdir() });
  engines.push(engine);
  const events: EngineEvent[] = [];
  await expect(engine.run({ mode: 'cross_lingual', text, prompt: tone(16000, 3), speed: 1 }, { seed: 1, signal: new AbortController().signal, emit: (e) => events.push(e) })).rejects.toThrow();
  return events.flatMap((e) => (e.type === 'log' ? [e.message] : []));
}

describe('redactLogMessage on the command engine’s real log lines', () => {
  it('leaves no directory of the worker machine, no argv and no pid in a crashed run’s log', async () => {
    const logs = await failingRunLogs({ command: ['python3', RUNNER, '--model-dir', MODEL_DIR] }, 'Fine. CRASH now.');
    const started = logs.find((l) => l.startsWith('Started '));
    const pid = /\(pid (\d+)\)/.exec(started ?? '')?.[1];
    expect(pid).toBeDefined();
    const traceback = logs.find((l) => l.startsWith('Traceback'));
    expect(traceback).toContain(here);

    const redacted = logs.map(redactLogMessage);
    expect(redacted).toContain('Started [command] ([pid]).');
    const directories = [path.dirname(here), os.tmpdir(), '/usr/', '/root/', '/home/'];
    for (const line of redacted) {
      for (const dir of directories) expect(line).not.toContain(dir);
      expect(line).not.toContain('--model-dir');
      expect(line).not.toMatch(new RegExp(`\\b${pid}\\b`));
    }
    const redactedTraceback = redactLogMessage(traceback!);
    expect(redactedTraceback).toMatch(/File "…\/cosyvoice\.py", line \d+, in _tts/);
    expect(redactedTraceback).toMatch(/File "…\/cosyvoice_runner\.py", line \d+, in run/);
    expect(redactedTraceback.split('\n').at(-1)).toBe('ValueError: fake flow decoder failed on purpose (CRASH in the text)');
  });

  it('hides the program path and working directory of a command that cannot start', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-redact-'));
    fs.rmSync(cwd, { recursive: true });
    const engine = createCommandEngine(commandEngineConfigSchema.parse({ id: 'cmd', kind: 'command', generation: 2, model: 'm', command: ['/opt/nowhere/bin/python3', RUNNER], cwd }), { scratchDir: os.tmpdir() });
    engines.push(engine);
    const error = await engine.run({ mode: 'cross_lingual', text: 'Hi.', prompt: tone(16000, 3), speed: 1 }, { seed: 1, signal: new AbortController().signal, emit: () => undefined }).catch((e: unknown) => e);
    // The worker logs a failure as `${stage} failed: ${message}` (worker/run-job.ts).
    const line = `synthesis failed: ${(error as Error).message}`;
    expect(line).toContain(cwd);
    expect(redactLogMessage(line)).toBe(`synthesis failed: Cannot start …/python3: its working directory …/${path.basename(cwd)} does not exist.`);
  });
});
