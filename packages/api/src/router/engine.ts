import { createRouter, publicProcedure } from '../trpc.ts';

export const engineRouter = createRouter({
  list: publicProcedure.query(({ ctx }) => ctx.engines.list()),
});
