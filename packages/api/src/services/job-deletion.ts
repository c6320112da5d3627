import type { Db } from '@chorus/db';
import type { JobEventBus, StoredFiles } from '../ports.ts';
import { KeyedLock } from './keyed-lock.ts';
import { loadJobSummary } from './job-summary.ts';

export interface DeletedJob {
  events: number;
  audio: boolean;
  /** The upload went too: no other job used it. */
  uploadId: string | null;
}

/**
 * Held per upload sha256 while an upload is stored and while a deletion removes an upload's
 * files: identical bytes sent during a deletion must not be deduplicated onto files being removed.
 */
export const uploadFilesLock = new KeyedLock();

/**
 * Delete a job with its events, audio, and its reference upload when nothing else uses it
 * (cloned voices are personal data). Rows go in one transaction, so no half-deleted job is
 * ever visible; files are removed after the commit (a crash in between leaves only an
 * orphan file, never a row pointing at nothing). Open history lists get a "deleted" change.
 */
export async function deleteJob(db: Db, files: StoredFiles, bus: Pick<JobEventBus, 'publishJobChange'>, jobId: string): Promise<DeletedJob | null> {
  const before = await db.job.findUnique({ where: { id: jobId }, include: { promptUpload: { select: { sha256: true } } } });
  if (!before) return null;
  // Loaded before the rows go: the push tells lists which job left, as it last was.
  const summary = await loadJobSummary(db, before);
  const sha256 = before.promptUpload?.sha256 ?? null;
  const removed = sha256 === null ? await deleteRowsAndFiles(db, files, jobId) : await uploadFilesLock.run(sha256, () => deleteRowsAndFiles(db, files, jobId));
  if (!removed) return null;
  bus.publishJobChange({ kind: 'deleted', job: summary });
  return removed;
}

async function deleteRowsAndFiles(db: Db, files: StoredFiles, jobId: string): Promise<DeletedJob | null> {
  const removed = await db.$transaction(async (tx) => {
    const job = await tx.job.findUnique({ where: { id: jobId }, include: { promptUpload: true } });
    if (!job) return null;
    const events = await tx.jobEvent.deleteMany({ where: { jobId } });
    await tx.job.delete({ where: { id: jobId } });
    const upload = job.promptUpload;
    const uploadGone = upload !== null && (await tx.job.count({ where: { promptUploadId: upload.id } })) === 0;
    if (uploadGone) await tx.upload.delete({ where: { id: upload.id } });
    return { events: events.count, outputPath: job.outputPath, upload: uploadGone ? upload : null };
  });
  if (!removed) return null;
  const paths = removed.outputPath === null ? [] : [removed.outputPath];
  // Re-checked after the commit: a row for the same bytes (stored by another process) keeps its files.
  if (removed.upload && (await db.upload.count({ where: { sha256: removed.upload.sha256 } })) === 0) {
    paths.push(removed.upload.originalPath, removed.upload.pcmPath);
  }
  await Promise.all(paths.map((p) => files.remove(p)));
  return { events: removed.events, audio: removed.outputPath !== null, uploadId: removed.upload?.id ?? null };
}
