import { Redis, type RedisOptions } from 'ioredis';
import type { WorkerLogger } from '../worker/logger.ts';

/**
 * An ioredis connection that reconnects for ever (every 0.2-2 s) and logs each outage once
 * (down, back), not every retry. `maxRetriesPerRequest: null` is what BullMQ requires of its connections.
 */
export function openRedis(url: string, role: string, logger: WorkerLogger, options: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...options,
  });
  let down = false;
  let lastError: string | null = null;
  // Errors come with every failed attempt; they are kept for the one line an outage gets.
  redis.on('error', (err: Error) => {
    lastError = err.message;
  });
  redis.on('reconnecting', () => {
    if (down) return;
    down = true;
    logger.warn({ role, err: lastError ?? 'connection closed' }, 'Redis connection down; reconnecting');
  });
  redis.on('ready', () => {
    lastError = null;
    if (!down) return;
    down = false;
    logger.info({ role }, 'Redis connection is back');
  });
  return redis;
}

/** Resolve once the connection is ready, or fail with what went wrong (the URL's password is never shown). */
export function whenReady(redis: Redis, role: string, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    let lastError = 'no answer';
    const onError = (err: Error): void => {
      lastError = err.message;
    };
    const done = (err?: Error): void => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      redis.off('error', onError);
      if (err) reject(err);
      else resolve();
    };
    const onReady = (): void => done();
    const { host, port } = redis.options;
    const timer = setTimeout(
      () => done(new Error(`Cannot reach Redis at ${host}:${port} (REDIS_URL) for the ${role} within ${timeoutMs} ms: ${lastError}.`)),
      timeoutMs,
    );
    redis.on('ready', onReady);
    redis.on('error', onError);
  });
}

/** Close politely (QUIT), or drop the socket when Redis does not answer in time. */
export async function closeRedis(redis: Redis, timeoutMs = 1000): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    redis.quit().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  redis.disconnect();
}

/** A promise that gives up after `ms`, so a call to an unreachable Redis never blocks its caller. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: Redis did not answer within ${ms} ms.`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
