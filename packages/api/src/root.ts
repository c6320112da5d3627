import { auditRouter, settingsRouter } from './router/admin.ts';
import { authRouter } from './router/auth.ts';
import { engineRouter } from './router/engine.ts';
import { failuresRouter } from './router/failures.ts';
import { jobRouter } from './router/job.ts';
import { membersRouter } from './router/members.ts';
import { uploadRouter } from './router/upload.ts';
import { workerApiRouter } from './router/worker-api.ts';
import { workersRouter } from './router/workers.ts';
import { createRouter } from './trpc.ts';

export const appRouter = createRouter({
  auth: authRouter,
  job: jobRouter,
  engine: engineRouter,
  members: membersRouter,
  audit: auditRouter,
  settings: settingsRouter,
  failures: failuresRouter,
  upload: uploadRouter,
  workers: workersRouter,
  workerApi: workerApiRouter,
});

export type AppRouter = typeof appRouter;
