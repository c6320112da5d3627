import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeWav } from '@chorus/inference';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// The stand-ins speak CosyVoice's real FastAPI and Triton protocols; the fake `cosyvoice`
// Python package mimics AutoModel. They are test doubles: there is no GPU or model here.
import { startFastApiStandin, type FastApiStandin } from '../../inference/test/standins/fastapi-standin.ts';
import { startTritonStandin, type TritonStandin } from '../../inference/test/standins/triton-standin.ts';
import { bearer, collectEvents, useChorus } from './support/harness.ts';

const inference = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../inference');

describe('CosyVoice engines through the normal server and worker', () => {
  let fastapi: FastApiStandin;
  let triton: TritonStandin;
  beforeAll(async () => {
    fastapi = await startFastApiStandin({ sampleRate: 24000, generation: 3, segmentDelayMs: 20 });
    triton = await startTritonStandin({ model: 'cosyvoice2', decoupled: false });
  });
  afterAll(async () => {
    await fastapi?.close();
    await triton?.close();
  });
  const chorus = useChorus(() => ({
    CHORUS_ENGINES: JSON.stringify([
      { id: 'builtin', kind: 'builtin' },
      {
        id: 'cv3-command',
        kind: 'command',
        generation: 3,
        model: 'Fun-CosyVoice3-0.5B',
        command: ['python3', path.join(inference, 'runners/cosyvoice_runner.py'), '--model-dir', path.join(inference, 'test/fixtures/command/models/Fun-CosyVoice3-0.5B')],
        env: { PYTHONPATH: path.join(inference, 'test/fixtures/fake-cosyvoice'), PYTHONDONTWRITEBYTECODE: '1' },
      },
      { id: 'cv3-http', kind: 'cosyvoice-http', generation: 3, model: 'Fun-CosyVoice3-0.5B', url: fastapi.url },
      { id: 'cv2-triton', kind: 'cosyvoice-triton', generation: 2, model: 'CosyVoice2-0.5B (TensorRT-LLM)', url: triton.url, tritonModel: 'cosyvoice2' },
    ]),
  }));

  it('lists every engine as up, with its kind and whether its runs are reproducible', async () => {
    const engines = await chorus.client.trpc.engine.list.query();
    expect(engines.map((e) => [e.id, e.kind, e.reproducible, e.health.status, e.default])).toEqual([
      ['builtin', 'builtin', true, 'up', true],
      ['cv3-command', 'command', true, 'up', false],
      ['cv3-http', 'cosyvoice-http', false, 'up', false],
      ['cv2-triton', 'cosyvoice-triton', false, 'up', false],
    ]);
  });

  for (const [engineId, kind, deterministic] of [
    ['cv3-command', 'command', true],
    ['cv3-http', 'cosyvoice-http', false],
    ['cv2-triton', 'cosyvoice-triton', false],
  ] as const) {
    it(`runs a zero-shot job on ${engineId} to a decodable 24 kHz WAV and records what ran it`, async () => {
      const created = await chorus.client.trpc.job.create.mutate({
        engineId,
        mode: 'zero_shot',
        text: '你好，欢迎使用。This is a test of the engine.',
        promptUploadId: chorus.uploadId,
        promptText: 'A reference voice.',
        seed: 11,
      });
      const stream = collectEvents(chorus.client, created.id);
      await stream.done;
      expect(stream.events.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });
      expect(stream.events.some((e) => e.type === 'stage')).toBe(true);
      const progress = stream.events.flatMap((e) => (e.type === 'progress' ? [e] : []));
      expect(progress.length).toBeGreaterThan(0);
      const notReproducible = stream.events.some((e) => e.type === 'log' && e.level === 'warn' && /takes no seed: this run is not reproducible/.test(e.message));
      expect(notReproducible).toBe(!deterministic);

      const job = await chorus.client.trpc.job.get.query({ id: created.id });
      expect(job).toMatchObject({ engineId, engineKind: kind, deterministic, outputSampleRate: 24000 });
      const wav = decodeWav(new Uint8Array(await (await fetch(`${chorus.h.url}${job.audioUrl}`, { headers: bearer(chorus.h.token) })).arrayBuffer()));
      expect(wav.sampleRate).toBe(24000);
      expect(wav.channels[0]!.length).toBeGreaterThan(24000 * 0.5);
    });
  }

  it('sends CosyVoice3 the <|endofprompt|> marker it requires over HTTP', async () => {
    const last = fastapi.requests.at(-1)!;
    expect(last.path).toBe('/inference_zero_shot');
    expect(last.fields.prompt_text).toContain('<|endofprompt|>');
  });
});
