import { engineRouter } from './router/engine.ts';
import { jobRouter } from './router/job.ts';
import { createRouter } from './trpc.ts';

export const appRouter = createRouter({
  job: jobRouter,
  engine: engineRouter,
});

export type AppRouter = typeof appRouter;
