import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collectEvents, sleep, useChorus } from './support/harness.ts';

// A minimal inference program for the `command` engine (a test double for a GPU runner):
// reads the job JSON on stdin, prints a tqdm-style bar, writes 1 s of tone as a WAV.
const PROGRAM = `#!/usr/bin/env python3
import json, math, struct, sys, wave
job = json.load(sys.stdin)
rate = int(job.get("sample_rate") or 24000)
for i in range(1, 4):
    sys.stderr.write("\\r%3d%%|#         | %d/3 [00:00<00:00,  9.00it/s]" % (i * 100 // 3, i))
sys.stderr.write("\\n")
frames = b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 220 * n / rate))) for n in range(rate))
with wave.open(job["output_wav"], "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(rate); w.writeframes(frames)
`;

describe('an engine that is down', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-engine-health-'));
  const program = path.join(dir, 'runner.py');
  const chorus = useChorus({
    CHORUS_ENGINES: JSON.stringify([
      { id: 'builtin', kind: 'builtin' },
      { id: 'gpu', kind: 'command', generation: 3, model: 'Test model', command: [program] },
    ]),
    CHORUS_ENGINE_PROBE_MS: '200',
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('is reported down, its jobs wait with a reason, and they run once it is back', async () => {
    const engines = await chorus.client.trpc.engine.list.query();
    expect(engines.find((e) => e.id === 'builtin')).toMatchObject({ default: true, health: { status: 'up' } });
    const gpu = engines.find((e) => e.id === 'gpu')!;
    expect(gpu).toMatchObject({ kind: 'command', version: 'Test model', reproducible: true, health: { status: 'down' } });
    expect(gpu.health.message).toContain(program);
    const health = (await (await fetch(`${chorus.h.url}/healthz`)).json()) as { engines: { id: string; health: string }[] };
    expect(health.engines).toContainEqual({ id: 'gpu', version: 'Test model', health: 'down' });

    const job = await chorus.client.trpc.job.create.mutate({ engineId: 'gpu', mode: 'cross_lingual', text: 'Hello.', promptUploadId: chorus.uploadId, seed: 3 });
    await sleep(600); // several probe rounds: it must still be waiting, not failed
    const waiting = await chorus.client.trpc.job.get.query({ id: job.id });
    expect(waiting).toMatchObject({ status: 'queued', engineKind: 'command', engineVersion: 'Test model', deterministic: true });

    fs.writeFileSync(program, PROGRAM, { mode: 0o755 });
    const stream = collectEvents(chorus.client, job.id);
    await stream.done;
    const logs = stream.events.flatMap((e) => (e.type === 'log' ? [`${e.level}: ${e.message}`] : []));
    expect(logs).toContainEqual(expect.stringMatching(/^warn: Engine "gpu" is unreachable .*waits in the queue/));
    expect(logs).toContainEqual('info: Engine "gpu" is reachable again.');
    expect(stream.events.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });
    const done = await chorus.client.trpc.job.get.query({ id: job.id });
    expect(done.outputSampleRate).toBe(24000);
    expect(done.outputDurationMs).toBeGreaterThan(900);
  });
});
