import { configDefaults, defineConfig } from 'vitest/config';

/**
 * The conformance suite: the files that drive every router, the event log, claims and history
 * paging through the harness. `pnpm test` runs everything on SQLite, then these again on
 * PostgreSQL (CHORUS_TEST_DATABASE=postgresql). Files about transport, uploads' decoding, or
 * that start servers on SQLite files of their own are not repeated.
 */
const CONFORMANCE = [
  'access-matrix',
  'auth-flows',
  'auth-races',
  'bad-input',
  'bullmq-queue',
  'engine-health',
  'failed-runs',
  'idempotent-submission',
  'job-flow',
  'people-and-settings',
  'redaction-and-tokens',
  'upload-and-job-races',
  'upload-management',
  'worker-api',
  'worker-tokens',
].map((name) => `test/${name}.test.ts`);

/**
 * Scale-out as deployed: several server and worker processes on PostgreSQL and Redis (one
 * to two minutes each). `pnpm test:scale-out` runs them with the conformance suite on
 * PostgreSQL; CI runs both that and `pnpm test`.
 */
const SCALE_OUT = ['two-servers', 'standalone-workers'].map((name) => `test/${name}.test.ts`);

const onPostgres = /^postgres(ql)?$/i.test(process.env.CHORUS_TEST_DATABASE ?? '');
const scaleOut = process.env.CHORUS_TEST_SUITE === 'scale-out';

export default defineConfig({
  test: {
    include: onPostgres ? CONFORMANCE : scaleOut ? SCALE_OUT : ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...(onPostgres || scaleOut ? [] : SCALE_OUT)],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file starts real servers and engine threads; on 2 cores, one file at a time.
    fileParallelism: false,
  },
});
