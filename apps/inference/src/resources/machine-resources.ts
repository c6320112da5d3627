import os from 'node:os';
import { machineResourcesSchema, type MachineResources } from '@chorus/api';
import { probeGpus } from './gpu-probe.ts';

interface CpuTimes {
  busy: number;
  total: number;
}

function cpuTimes(): CpuTimes {
  let busy = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const t = cpu.times;
    busy += t.user + t.nice + t.sys + t.irq;
    total += t.user + t.nice + t.sys + t.irq + t.idle;
  }
  return { busy, total };
}

/**
 * Samples this machine's CPU, memory and GPUs. CPU usage is the busy share since the previous
 * sample (os.cpus() counts since boot), so the first sample has none.
 */
export class MachineResourceSampler {
  private previous: CpuTimes | null = null;

  constructor(private readonly options: { nvidiaSmi?: string } = {}) {}

  async sample(): Promise<MachineResources> {
    const now = cpuTimes();
    const before = this.previous;
    this.previous = now;
    const span = before ? now.total - before.total : 0;
    const usagePct = before && span > 0 ? Math.min(100, Math.max(0, ((now.busy - before.busy) / span) * 100)) : null;
    return machineResourcesSchema.parse({
      at: new Date().toISOString(),
      cpu: { cores: Math.max(1, os.availableParallelism()), usagePct: usagePct === null ? null : Math.round(usagePct * 10) / 10, loadAverage1m: os.loadavg()[0] ?? 0 },
      // freemem() leaves out reclaimable page cache on Linux; that is the conservative figure.
      memory: { totalBytes: os.totalmem(), availableBytes: os.freemem(), processRssBytes: process.memoryUsage.rss() },
      gpu: await probeGpus({ command: this.options.nvidiaSmi }),
    });
  }
}
