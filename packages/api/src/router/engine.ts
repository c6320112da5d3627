import type { EngineStatus } from '../schemas/engine.ts';
import { createRouter, publicProcedure } from '../trpc.ts';

export const engineRouter = createRouter({
  list: publicProcedure.query(({ ctx }): EngineStatus[] => ctx.engines.list().map((info) => ({ ...info, health: ctx.engines.health(info.id) }))),
});
