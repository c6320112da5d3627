import { z } from 'zod';

/** One GPU as nvidia-smi reports it; a field the driver does not know ("[N/A]") is null. */
export const gpuDeviceSchema = z.object({
  index: z.number().int().nonnegative(),
  name: z.string(),
  memoryTotalMiB: z.number().nonnegative().nullable(),
  memoryUsedMiB: z.number().nonnegative().nullable(),
  utilizationPct: z.number().min(0).max(100).nullable(),
  temperatureC: z.number().nullable(),
});
export type GpuDevice = z.infer<typeof gpuDeviceSchema>;

/**
 * What a machine's GPUs look like: `none` where nvidia-smi does not exist (say "no GPU"),
 * `error` where it exists but fails (a driver problem is worth showing), `ok` with devices.
 */
export const gpuReportSchema = z.object({
  status: z.enum(['ok', 'none', 'error']),
  message: z.string().nullable(),
  devices: z.array(gpuDeviceSchema),
});
export type GpuReport = z.infer<typeof gpuReportSchema>;

/** A machine's resources at one moment (a worker's heartbeat, the resources page). */
export const machineResourcesSchema = z.object({
  at: z.string().datetime(),
  cpu: z.object({
    cores: z.number().int().positive(),
    /** Busy share of all cores since the previous sample, 0–100 (null for the first sample). */
    usagePct: z.number().min(0).max(100).nullable(),
    loadAverage1m: z.number().nonnegative(),
  }),
  memory: z.object({
    totalBytes: z.number().nonnegative(),
    availableBytes: z.number().nonnegative(),
    processRssBytes: z.number().nonnegative(),
  }),
  gpu: gpuReportSchema,
});
export type MachineResources = z.infer<typeof machineResourcesSchema>;
