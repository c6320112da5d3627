import { TRPCError } from '@trpc/server';
import type { Db, Upload } from '@chorus/db';
import type { StoredFiles } from '../ports.ts';
import { uploadFilesLock } from './job-deletion.ts';

/**
 * Delete an upload no job uses (a cloned voice is personal data): the row, then its files
 * once no other sender's row shares those bytes. Refused while any job uses it as its
 * reference, since those jobs' re-runs and retries need it. Under the sha lock, so the same
 * bytes arriving meanwhile are stored anew rather than onto files being removed.
 */
export async function deleteUnusedUpload(db: Db, files: StoredFiles, upload: Pick<Upload, 'id' | 'sha256'>): Promise<boolean> {
  return uploadFilesLock.run(upload.sha256, async () => {
    const removed = await db.$transaction(async (tx) => {
      const row = await tx.upload.findUnique({ where: { id: upload.id } });
      if (!row) return null;
      const jobs = await tx.job.count({ where: { promptUploadId: row.id } });
      if (jobs > 0) {
        throw new TRPCError({
          code: 'CONFLICT',
          message: `Upload "${row.id}" is the reference audio of ${jobs} job${jobs === 1 ? '' : 's'}; delete ${jobs === 1 ? 'that job' : 'those jobs'} first (re-runs need the voice).`,
        });
      }
      await tx.upload.delete({ where: { id: row.id } });
      return row;
    });
    if (!removed) return false;
    // Checked after the commit: another sender's row for the same bytes keeps the files.
    if ((await db.upload.count({ where: { sha256: removed.sha256 } })) === 0) {
      await Promise.all([removed.originalPath, removed.pcmPath].map((p) => files.remove(p)));
    }
    return true;
  });
}
