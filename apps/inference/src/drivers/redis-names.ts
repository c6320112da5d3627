/**
 * Every Redis channel and key Chorus uses, under one prefix (CHORUS_REDIS_PREFIX), so two
 * deployments or two test files on one Redis never hear each other.
 */
export interface RedisNames {
  /** Pub/sub channel of one job's stored events. */
  jobEvents(jobId: string): string;
  /** The channel prefix of job event channels (the job id follows it). */
  readonly jobEventsPrefix: string;
  /** Pub/sub channel of job summary changes (live history lists). */
  readonly jobChanges: string;
  /** Pub/sub channel of "abort this running job" requests, heard by every worker. */
  readonly abort: string;
  /** BullMQ's key prefix (its keys are `<this>:<queue name>:…`). */
  readonly bullmqPrefix: string;
}

/** Prefixes are plain words: they are part of every key and channel name. */
export const REDIS_PREFIX_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function redisNames(prefix: string): RedisNames {
  if (!REDIS_PREFIX_PATTERN.test(prefix)) {
    throw new Error(`Redis prefix "${prefix}" must be 1-64 letters, digits, ".", "_" or "-", starting with a letter or digit.`);
  }
  const jobEventsPrefix = `${prefix}:job-events:`;
  return {
    jobEvents: (jobId) => jobEventsPrefix + jobId,
    jobEventsPrefix,
    jobChanges: `${prefix}:job-changes`,
    abort: `${prefix}:abort`,
    bullmqPrefix: `${prefix}:bullmq`,
  };
}

/** One BullMQ queue per engine; BullMQ refuses ":" in queue names, and engine ids may hold one. */
export function engineQueueName(engineId: string): string {
  return `engine.${encodeURIComponent(engineId)}`;
}

/**
 * A queued job's BullMQ id: the Chorus id and the lease epoch it waits at. Enqueueing a job
 * twice in one wait is a no-op, while a job put back after a takeover (epoch + 1) is added at
 * once, even if the dead worker's BullMQ job is still active until BullMQ finds it stalled.
 */
export const bullmqJobId = (jobId: string, leaseEpoch: number): string => `${jobId}.${leaseEpoch}`;

/** The Chorus job id in a BullMQ job id (what the feed claims). */
export const chorusJobIdOf = (bullmqId: string): string => bullmqId.replace(/\.\d+$/, '');
