import type { Db } from '@chorus/db';
import type { StoredFiles } from '../ports.ts';

export interface DeletedJob {
  events: number;
  audio: boolean;
  /** The upload went too: no other job used it. */
  uploadId: string | null;
}

/**
 * Delete a job with its events, audio, and its reference upload when nothing else uses it
 * (cloned voices are personal data). Rows go in one transaction, so no half-deleted job is
 * ever visible; files are removed after the commit (a crash in between leaves only an
 * orphan file, never a row pointing at nothing).
 */
export async function deleteJob(db: Db, files: StoredFiles, jobId: string): Promise<DeletedJob | null> {
  const removed = await db.$transaction(async (tx) => {
    const job = await tx.job.findUnique({ where: { id: jobId }, include: { promptUpload: true } });
    if (!job) return null;
    const events = await tx.jobEvent.deleteMany({ where: { jobId } });
    await tx.job.delete({ where: { id: jobId } });
    const upload = job.promptUpload;
    const uploadGone = upload !== null && (await tx.job.count({ where: { promptUploadId: upload.id } })) === 0;
    if (uploadGone) await tx.upload.delete({ where: { id: upload.id } });
    return {
      events: events.count,
      paths: [job.outputPath, ...(uploadGone ? [upload.originalPath, upload.pcmPath] : [])].filter((p): p is string => p !== null),
      audio: job.outputPath !== null,
      uploadId: uploadGone ? upload.id : null,
    };
  });
  if (!removed) return null;
  await Promise.all(removed.paths.map((p) => files.remove(p)));
  return { events: removed.events, audio: removed.audio, uploadId: removed.uploadId };
}
