import type { Db } from '@chorus/db';
import type { RemoteEngineWorkers } from '../schemas/engine.ts';
import { workerEngineSchema } from '../schemas/worker-api.ts';

/** The engines standalone workers run, by engine id, counting workers whose heartbeats still arrive (within `staleAfterMs`). */
export async function remoteEngineWorkers(db: Db, staleAfterMs: number, now = Date.now()): Promise<Map<string, RemoteEngineWorkers>> {
  const nodes = await db.workerNode.findMany({ where: { stoppedAt: null, lastHeartbeatAt: { gte: new Date(now - staleAfterMs) } }, select: { engines: true }, take: 1000 });
  const byEngine = new Map<string, RemoteEngineWorkers>();
  for (const node of nodes) {
    for (const entry of Array.isArray(node.engines) ? node.engines : []) {
      const engine = workerEngineSchema.safeParse(entry);
      if (!engine.success) continue;
      const sum = byEngine.get(engine.data.id) ?? { online: 0, up: 0, concurrency: 0 };
      byEngine.set(engine.data.id, {
        online: sum.online + 1,
        up: sum.up + (engine.data.health.status === 'up' ? 1 : 0),
        concurrency: sum.concurrency + engine.data.concurrency,
      });
    }
  }
  return byEngine;
}

export const NO_REMOTE_WORKERS: RemoteEngineWorkers = { online: 0, up: 0, concurrency: 0 };
