import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createTestPostgresDatabase, type TestPostgresDatabase } from '@chorus/db/testing';
import { startRedis } from './redis-process.ts';
import { freePort } from './server-process.ts';

/** A PostgreSQL database and a Redis of one test's own, which the server processes it starts share. */
export interface SharedBackends {
  databaseUrl: string;
  redisPort: number;
  redisUrl: string;
  /** Server `name`'s environment: this database and Redis, a data directory of its own, and one media store for all (as S3 would be). */
  serverEnv(name: string, extra?: Record<string, string>): Record<string, string>;
  stop(): Promise<void>;
}

export async function startSharedBackends(dir: string): Promise<SharedBackends> {
  const database: TestPostgresDatabase = await createTestPostgresDatabase();
  const redisPort = await freePort();
  let redis: ChildProcess;
  try {
    redis = await startRedis(redisPort);
  } catch (err) {
    await database.drop();
    throw err;
  }
  const redisUrl = `redis://127.0.0.1:${redisPort}`;
  return {
    databaseUrl: database.url,
    redisPort,
    redisUrl,
    serverEnv: (name, extra = {}) => ({
      DATABASE_URL: database.url,
      REDIS_URL: redisUrl,
      CHORUS_DATA_DIR: path.join(dir, name),
      CHORUS_STORAGE_URL: `file://${path.join(dir, 'media')}`,
      // Subscribers on one server see another's events without waiting long for a missed push.
      CHORUS_EVENTS_IDLE_REREAD_MS: '300',
      ...extra,
    }),
    stop: async () => {
      redis.kill('SIGKILL');
      await database.drop();
    },
  };
}
