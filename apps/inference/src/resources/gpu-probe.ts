import { execFile } from 'node:child_process';
import { gpuReportSchema, type GpuDevice, type GpuReport } from '@chorus/api';

/** The fields asked of nvidia-smi, in this order (its CSV keeps the order of the query). */
const QUERY = ['index', 'name', 'memory.total', 'memory.used', 'utilization.gpu', 'temperature.gpu'] as const;

function numberOrNull(field: string | undefined): number | null {
  const v = (field ?? '').trim();
  // The driver writes [N/A] or [Not Supported] for what a card cannot report.
  if (v === '' || v.startsWith('[')) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** Parse `nvidia-smi --query-gpu=… --format=csv,noheader,nounits` output; unreadable lines are skipped. */
export function parseNvidiaSmiCsv(stdout: string): GpuDevice[] {
  return stdout
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .flatMap((line) => {
      const f = line.split(',').map((x) => x.trim());
      if (f.length < QUERY.length) return [];
      const index = numberOrNull(f[0]);
      if (index === null || !Number.isInteger(index)) return [];
      const util = numberOrNull(f[4]);
      return [
        {
          index,
          name: f[1] ?? '',
          memoryTotalMiB: numberOrNull(f[2]),
          memoryUsedMiB: numberOrNull(f[3]),
          utilizationPct: util === null ? null : Math.min(100, Math.max(0, util)),
          temperatureC: numberOrNull(f[5]),
        },
      ];
    });
}

/**
 * GPU memory and utilisation from nvidia-smi where it exists; "no GPU" where it does not.
 * Never throws: a failing or hanging nvidia-smi is reported as an error with its first line.
 */
export function probeGpus(options: { command?: string; timeoutMs?: number } = {}): Promise<GpuReport> {
  const command = options.command ?? 'nvidia-smi';
  return new Promise((resolve) => {
    execFile(
      command,
      [`--query-gpu=${QUERY.join(',')}`, '--format=csv,noheader,nounits'],
      { timeout: options.timeoutMs ?? 5000, maxBuffer: 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
          resolve({ status: 'none', message: 'no GPU (nvidia-smi is not installed on this machine)', devices: [] });
          return;
        }
        if (err) {
          const first = `${stderr}\n${stdout}`.split('\n').map((l) => l.trim()).find((l) => l !== '');
          const why = err.killed ? `nvidia-smi did not answer within ${options.timeoutMs ?? 5000} ms` : (first ?? `nvidia-smi failed (${err.message})`);
          resolve({ status: 'error', message: why.slice(0, 300), devices: [] });
          return;
        }
        const devices = parseNvidiaSmiCsv(stdout);
        resolve(gpuReportSchema.parse(devices.length > 0 ? { status: 'ok', message: null, devices } : { status: 'none', message: 'no GPU (nvidia-smi lists none)', devices: [] }));
      },
    );
  });
}
