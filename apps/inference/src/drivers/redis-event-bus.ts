import { jobChangeSchema, jobEventSchema, type JobChange, type JobEvent, type JobEventBus } from '@chorus/api';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import type { WorkerLogger } from '../worker/logger.ts';
import { closeRedis, openRedis, whenReady } from './redis-connection.ts';
import { redisNames, type RedisNames } from './redis-names.ts';

export interface RedisEventBusOptions {
  /** redis:// or rediss:// URL (REDIS_URL). */
  url: string;
  /** Every channel starts with it (CHORUS_REDIS_PREFIX). */
  prefix: string;
  logger: WorkerLogger;
}

type Listener<T> = (value: T) => void;

/** Longest piece of a malformed message quoted in the log. */
const QUOTE_CHARS = 200;

/**
 * The event bus across processes: Redis pub/sub, one channel per job and one for job
 * changes. Each process holds one publisher and one subscriber connection, and subscribes
 * to a job's channel once however many local listeners it has (the last one to leave
 * unsubscribes); messages are validated once on arrival and fanned out locally.
 *
 * Pub/sub is at-most-once: what is published while a connection is down is lost (the
 * publisher does not buffer, and ioredis resubscribes the subscriber when it is back).
 * That is safe because the bus only announces what the durable log already holds: a
 * job.events stream fills a hole when a later event arrives, and re-reads the log when
 * no live event came for a while, so a lost last message is found too.
 */
export class RedisEventBus implements JobEventBus {
  private readonly names: RedisNames;
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private readonly jobListeners = new Map<string, Set<Listener<JobEvent>>>();
  private readonly changeListeners = new Set<Listener<JobChange>>();
  private readonly logger: WorkerLogger;
  private publishFailures = 0;

  /** A bus whose two connections are up (fails with a clear message when Redis cannot be reached). */
  static async connect(options: RedisEventBusOptions): Promise<RedisEventBus> {
    const bus = new RedisEventBus(options);
    try {
      await Promise.all([whenReady(bus.publisher, 'event bus'), whenReady(bus.subscriber, 'event bus')]);
    } catch (err) {
      await bus.close();
      throw err;
    }
    return bus;
  }

  constructor(options: RedisEventBusOptions) {
    this.names = redisNames(options.prefix);
    this.logger = options.logger;
    // No offline queue: while Redis is down a publish fails at once instead of piling up in memory.
    this.publisher = openRedis(options.url, 'event bus publisher', options.logger, { enableOfflineQueue: false });
    this.subscriber = openRedis(options.url, 'event bus subscriber', options.logger);
    this.subscriber.on('message', (channel: string, message: string) => this.deliver(channel, message));
  }

  publishJobEvent(jobId: string, event: JobEvent): void {
    this.publish(this.names.jobEvents(jobId), event);
  }

  subscribeJobEvents(jobId: string, listener: (event: JobEvent) => void): () => void {
    let listeners = this.jobListeners.get(jobId);
    if (!listeners) {
      listeners = new Set();
      this.jobListeners.set(jobId, listeners);
      this.subscribe(this.names.jobEvents(jobId));
    }
    // Each subscription gets its own entry, so the same function subscribed twice is two listeners.
    const entry: Listener<JobEvent> = (event) => listener(event);
    listeners.add(entry);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      listeners.delete(entry);
      if (listeners.size === 0 && this.jobListeners.get(jobId) === listeners) {
        this.jobListeners.delete(jobId);
        this.unsubscribe(this.names.jobEvents(jobId));
      }
    };
  }

  publishJobChange(change: JobChange): void {
    this.publish(this.names.jobChanges, change);
  }

  subscribeJobChanges(listener: (change: JobChange) => void): () => void {
    if (this.changeListeners.size === 0) this.subscribe(this.names.jobChanges);
    const entry: Listener<JobChange> = (change) => listener(change);
    this.changeListeners.add(entry);
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.changeListeners.delete(entry);
      if (this.changeListeners.size === 0) this.unsubscribe(this.names.jobChanges);
    };
  }

  /** Redis channels this process is subscribed to (one per job with local listeners, plus job changes). */
  get subscribedChannels(): number {
    return this.jobListeners.size + (this.changeListeners.size > 0 ? 1 : 0);
  }

  async close(): Promise<void> {
    this.jobListeners.clear();
    this.changeListeners.clear();
    await Promise.all([closeRedis(this.publisher), closeRedis(this.subscriber)]);
  }

  private publish(channel: string, message: JobEvent | JobChange): void {
    this.publisher.publish(channel, JSON.stringify(message)).then(
      () => {
        if (this.publishFailures > 0) {
          this.logger.warn({ lost: this.publishFailures }, 'event bus: messages were not published while Redis was unreachable; subscribers read them from the log');
          this.publishFailures = 0;
        }
      },
      (err: unknown) => {
        // Counted, not logged one by one: at hundreds of events a second an outage would flood the log.
        if (this.publishFailures++ === 0) this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'event bus: cannot publish; subscribers read what they miss from the log');
      },
    );
  }

  private subscribe(channel: string): void {
    this.subscriber.subscribe(channel).catch((err: unknown) => this.logger.error({ err, channel }, 'event bus: SUBSCRIBE failed'));
  }

  private unsubscribe(channel: string): void {
    this.subscriber.unsubscribe(channel).catch((err: unknown) => this.logger.error({ err, channel }, 'event bus: UNSUBSCRIBE failed'));
  }

  private deliver(channel: string, message: string): void {
    if (channel === this.names.jobChanges) {
      if (this.changeListeners.size === 0) return;
      const change = this.parse(channel, message, jobChangeSchema);
      if (change) this.fanOut(channel, [...this.changeListeners], change);
      return;
    }
    if (!channel.startsWith(this.names.jobEventsPrefix)) return;
    const listeners = this.jobListeners.get(channel.slice(this.names.jobEventsPrefix.length));
    if (!listeners || listeners.size === 0) return; // an UNSUBSCRIBE still on its way
    const event = this.parse(channel, message, jobEventSchema);
    if (event) this.fanOut(channel, [...listeners], event);
  }

  /** The message checked against its schema; anything else is logged and dropped. */
  private parse<S extends z.ZodType>(channel: string, message: string, schema: S): z.infer<S> | null {
    let json: unknown;
    try {
      json = JSON.parse(message);
    } catch {
      this.logger.warn({ channel, message: message.slice(0, QUOTE_CHARS) }, 'event bus: dropped a message that is not JSON');
      return null;
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`).join('; ');
      this.logger.warn({ channel, problems, message: message.slice(0, QUOTE_CHARS) }, 'event bus: dropped a malformed message');
      return null;
    }
    return parsed.data as z.infer<S>;
  }

  private fanOut<T>(channel: string, listeners: Listener<T>[], value: T): void {
    for (const listener of listeners) {
      try {
        listener(value);
      } catch (err) {
        // One failing listener must not keep the event from the others.
        this.logger.error({ err, channel }, 'event bus: a listener failed');
      }
    }
  }
}
