import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { machineResourcesSchema } from '@chorus/api';
import { afterAll, describe, expect, it } from 'vitest';
import { MachineResourceSampler, parseNvidiaSmiCsv, probeGpus } from '../src/index.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-gpu-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A stand-in for nvidia-smi (this machine has no GPU): a script that prints what the real one prints. */
function fakeNvidiaSmi(name: string, body: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

describe('GPU probe', () => {
  it('parses nvidia-smi CSV, with [N/A] fields as null and broken lines skipped', () => {
    const out = ['0, NVIDIA A100-SXM4-80GB, 81920, 40123, 87, 61', '1, NVIDIA L4, 23034, [N/A], [Not Supported], 45', 'garbage', ''].join('\n');
    expect(parseNvidiaSmiCsv(out)).toEqual([
      { index: 0, name: 'NVIDIA A100-SXM4-80GB', memoryTotalMiB: 81920, memoryUsedMiB: 40123, utilizationPct: 87, temperatureC: 61 },
      { index: 1, name: 'NVIDIA L4', memoryTotalMiB: 23034, memoryUsedMiB: null, utilizationPct: null, temperatureC: 45 },
    ]);
  });

  it('says "no GPU" where nvidia-smi does not exist', async () => {
    const report = await probeGpus({ command: path.join(tmp, 'no-such-nvidia-smi') });
    expect(report).toEqual({ status: 'none', message: expect.stringMatching(/^no GPU/), devices: [] });
  });

  it('reads the devices from a working nvidia-smi and passes the query it needs', async () => {
    const cmd = fakeNvidiaSmi('ok', `case "$1" in --query-gpu=index,name,memory.total,memory.used,utilization.gpu,temperature.gpu) echo "0, Tesla T4, 15360, 1024, 12, 40";; *) exit 9;; esac`);
    expect(await probeGpus({ command: cmd })).toEqual({
      status: 'ok',
      message: null,
      devices: [{ index: 0, name: 'Tesla T4', memoryTotalMiB: 15360, memoryUsedMiB: 1024, utilizationPct: 12, temperatureC: 40 }],
    });
  });

  it('reports a failing driver with its message, and a hanging nvidia-smi as an error', async () => {
    const broken = fakeNvidiaSmi('broken', `echo "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver." >&2; exit 9`);
    expect(await probeGpus({ command: broken })).toEqual({ status: 'error', message: expect.stringMatching(/couldn't communicate with the NVIDIA driver/), devices: [] });
    const hung = fakeNvidiaSmi('hung', 'sleep 30');
    expect(await probeGpus({ command: hung, timeoutMs: 300 })).toEqual({ status: 'error', message: 'nvidia-smi did not answer within 300 ms', devices: [] });
  });
});

describe('machine resources', () => {
  it('samples CPU, memory and GPUs in the shared schema; CPU usage from the second sample on', async () => {
    const sampler = new MachineResourceSampler({ nvidiaSmi: path.join(tmp, 'absent') });
    const first = await sampler.sample();
    expect(machineResourcesSchema.parse(first)).toEqual(first);
    expect(first.cpu.usagePct).toBeNull();
    expect(first.memory.totalBytes).toBe(os.totalmem());
    expect(first.memory.processRssBytes).toBeGreaterThan(0);
    expect(first.gpu.status).toBe('none');
    // Some CPU work between samples, so the busy share is measurable.
    let x = 0;
    for (let i = 0; i < 3e7; i++) x += i % 7;
    expect(x).toBeGreaterThan(0);
    const second = await sampler.sample();
    expect(second.cpu.usagePct).not.toBeNull();
    expect(second.cpu.usagePct!).toBeGreaterThanOrEqual(0);
  });
});
