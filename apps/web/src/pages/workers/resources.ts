import type { MachineResources } from '@chorus/api/schemas';

const GIB = 1024 ** 3;

/** "16 cores, 4 % busy" */
export function describeCpu(cpu: MachineResources['cpu']): string {
  return `${cpu.cores} cores${cpu.usagePct === null ? '' : `, ${Math.round(cpu.usagePct)} % busy`}`;
}

/** "40.0 of 64.0 GiB free" */
export function describeMemory(memory: MachineResources['memory']): string {
  return `${(memory.availableBytes / GIB).toFixed(1)} of ${(memory.totalBytes / GIB).toFixed(1)} GiB free`;
}

/** One line per GPU ("NVIDIA L4: 0.5 / 22.5 GiB, 7 %"), "no GPU", or the driver's problem. */
export function describeGpus(gpu: MachineResources['gpu']): string[] {
  if (gpu.status === 'none') return ['no GPU'];
  if (gpu.status === 'error') return [`GPU not readable: ${gpu.message ?? 'nvidia-smi failed'}`];
  return gpu.devices.map((d) => {
    const memory = d.memoryTotalMiB === null ? '' : `: ${((d.memoryUsedMiB ?? 0) / 1024).toFixed(1)} / ${(d.memoryTotalMiB / 1024).toFixed(1)} GiB`;
    const busy = d.utilizationPct === null ? '' : `, ${Math.round(d.utilizationPct)} %`;
    return `${d.name}${memory}${busy}`;
  });
}
