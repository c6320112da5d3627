import type { EngineStatus } from '../schemas/engine.ts';
import { createRouter, viewerProcedure } from '../trpc.ts';

export const engineRouter = createRouter({
  list: viewerProcedure.query(({ ctx }): EngineStatus[] => ctx.engines.list().map((info) => ({ ...info, health: ctx.engines.health(info.id) }))),
});
