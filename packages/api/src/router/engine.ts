import type { EngineHealth, EngineStatus } from '../schemas/engine.ts';
import { redactLogMessage } from '../services/log-redaction.ts';
import { createRouter, viewerProcedure } from '../trpc.ts';

/** A probe's message names the engine's program or URL: non-admins get it redacted like a job log. */
const redactHealth = (health: EngineHealth): EngineHealth => (health.message === null ? health : { ...health, message: redactLogMessage(health.message) });

export const engineRouter = createRouter({
  list: viewerProcedure.query(({ ctx }): EngineStatus[] =>
    ctx.engines.list().map((info) => {
      const health = ctx.engines.health(info.id);
      return { ...info, health: ctx.user.role === 'admin' ? health : redactHealth(health) };
    }),
  ),
});
