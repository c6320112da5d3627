import { TRPCError } from '@trpc/server';
import { deleteUploadInputSchema, listUploadsInputSchema, uploadFormatSchema, type UploadInfo } from '../schemas/upload.ts';
import { recordAudit } from '../services/audit-log.ts';
import { deleteUnusedUpload } from '../services/upload-deletion.ts';
import { storedUploadBytes } from '../services/upload-sizes.ts';
import { createRouter, viewerProcedure } from '../trpc.ts';

/**
 * Reference audio people sent (POST /api/uploads stores it): their own to list and delete;
 * admins may see and delete anyone's. Viewer level, so someone whose role was lowered can
 * still remove their voice.
 */
export const uploadRouter = createRouter({
  list: viewerProcedure.input(listUploadsInputSchema).query(async ({ ctx, input }) => {
    const own = input.uploadedBy === 'mine' || input.uploadedBy === ctx.user.id;
    if (!own && ctx.user.role !== 'admin') {
      throw new TRPCError({ code: 'FORBIDDEN', message: `Only admins may list other people's uploads; you are a ${ctx.user.role}. Use uploadedBy: "mine".` });
    }
    const rows = await ctx.db.upload.findMany({
      where: {
        ...(input.uploadedBy === 'everyone' ? {} : { uploadedById: own ? ctx.user.id : input.uploadedBy }),
        ...(input.cursor ? { id: { lt: input.cursor } } : {}),
      },
      orderBy: { id: 'desc' },
      take: input.limit + 1,
      include: { uploadedBy: { select: { id: true, name: true } }, _count: { select: { jobs: true } } },
    });
    const page = rows.slice(0, input.limit);
    return {
      items: page.map(
        (row): UploadInfo => ({
          id: row.id,
          originalName: row.originalName,
          format: uploadFormatSchema.parse(row.format),
          sampleRate: row.sampleRate,
          channels: row.channels,
          durationMs: row.durationMs,
          storedBytes: storedUploadBytes(row),
          createdAt: row.createdAt.toISOString(),
          uploadedBy: row.uploadedBy,
          jobs: row._count.jobs,
        }),
      ),
      nextCursor: rows.length > input.limit ? page[page.length - 1]!.id : null,
    };
  }),

  delete: viewerProcedure.input(deleteUploadInputSchema).mutation(async ({ ctx, input }) => {
    const upload = await ctx.db.upload.findUnique({ where: { id: input.id } });
    if (!upload) throw new TRPCError({ code: 'NOT_FOUND', message: `No upload "${input.id}".` });
    if (upload.uploadedById !== ctx.user.id && ctx.user.role !== 'admin') {
      throw new TRPCError({ code: 'FORBIDDEN', message: `Only the person who sent upload "${upload.id}" or an admin may delete it.` });
    }
    if (await deleteUnusedUpload(ctx.db, ctx.files, upload)) {
      await recordAudit(ctx.db, { actor: ctx.user, action: 'upload.deleted', target: { type: 'upload', id: upload.id }, detail: { owner: upload.uploadedById }, ip: ctx.request.ip });
    }
    return { id: upload.id, deleted: true };
  }),
});
