import type { Db } from '@chorus/db';
import type { JobEventBus, StoredFiles } from '../ports.ts';
import { recordAudit } from './audit-log.ts';
import { deleteJob } from './job-deletion.ts';
import { deleteUnusedUpload } from './upload-deletion.ts';
import { loadSettings } from './workspace-settings.ts';

const BATCH = 100;

/**
 * Deletes finished jobs older than the admin's retention setting (0 = keep forever), each
 * the way a person's delete would (events, audio, an unused upload, a "deleted" push to open
 * lists), then uploads older than that which no job uses (voices sent and never used), and
 * audits the counts.
 */
export async function sweepRetention(db: Db, files: StoredFiles, bus: Pick<JobEventBus, 'publishJobChange'>, now = Date.now()): Promise<number> {
  const { retentionDays } = await loadSettings(db);
  if (retentionDays <= 0) return 0;
  const cutoff = new Date(now - retentionDays * 24 * 3600_000);
  let deleted = 0;
  for (;;) {
    const old = await db.job.findMany({
      where: { status: { in: ['succeeded', 'failed', 'canceled'] }, finishedAt: { lt: cutoff } },
      select: { id: true },
      take: BATCH,
    });
    for (const job of old) if (await deleteJob(db, files, bus, job.id)) deleted++;
    if (old.length < BATCH) break;
  }
  let uploads = 0;
  for (;;) {
    const unused = await db.upload.findMany({ where: { createdAt: { lt: cutoff }, jobs: { none: {} } }, select: { id: true, sha256: true }, take: BATCH });
    // A job created with one meanwhile keeps it (deleteUnusedUpload refuses): skip it this time.
    for (const upload of unused) if (await deleteUnusedUpload(db, files, upload).catch(() => false)) uploads++;
    if (unused.length < BATCH) break;
  }
  if (deleted > 0 || uploads > 0) await recordAudit(db, { actor: null, action: 'retention.deleted', detail: { jobs: deleted, uploads, olderThanDays: retentionDays }, ip: null });
  return deleted;
}
