import type { JobEventBody } from '@chorus/api';
import type { Db, Job } from '@chorus/db';

type LogBody = Extract<JobEventBody, { type: 'log' }>;

/**
 * A re-run with its parent's seed on the same engine version is a reproduction attempt:
 * say whether the audio came out bit for bit the same, and whether that was to be expected.
 */
export async function compareWithParent(db: Db, job: Job, sha256: string): Promise<LogBody | null> {
  if (!job.parentId) return null;
  const parent = await db.job.findUnique({ where: { id: job.parentId } });
  if (!parent || parent.status !== 'succeeded' || !parent.outputSha256) return null;
  if (parent.seed !== job.seed) return null;
  if (parent.engineId !== job.engineId || parent.engineVersion !== job.engineVersion) {
    return {
      type: 'log',
      level: 'info',
      message: `Not compared with parent ${parent.id}: it ran on ${parent.engineId} ${parent.engineVersion}, this run on ${job.engineId} ${job.engineVersion}.`,
    };
  }
  if (parent.outputSha256 === sha256) {
    return { type: 'log', level: 'info', message: `Reproduced: the audio is bit-for-bit identical to parent ${parent.id} (sha256 ${sha256.slice(0, 12)}…).` };
  }
  return job.deterministic
    ? { type: 'log', level: 'warn', message: `Not reproduced: same seed and engine version as parent ${parent.id}, but the audio differs (sha256 ${sha256.slice(0, 12)}… vs ${parent.outputSha256.slice(0, 12)}…).` }
    : { type: 'log', level: 'info', message: `The audio differs from parent ${parent.id}, as expected: ${job.engineId} takes no seed, so its runs are not reproducible.` };
}
