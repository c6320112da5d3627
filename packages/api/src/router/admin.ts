import { auditEntrySchema, listAuditInputSchema, updateSettingsInputSchema, type AuditEntryInfo } from '../schemas/auth.ts';
import { recordAudit } from '../services/audit-log.ts';
import { loadSettings, saveSettings } from '../services/workspace-settings.ts';
import { adminProcedure, createRouter } from '../trpc.ts';

function parseDetail(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export const auditRouter = createRouter({
  /** Newest first; filter by action or actor; the cursor is the last entry's id. */
  list: adminProcedure.input(listAuditInputSchema).query(async ({ ctx, input }) => {
    const rows = await ctx.db.auditEntry.findMany({
      where: { ...(input.action ? { action: input.action } : {}), ...(input.actorId ? { actorId: input.actorId } : {}), ...(input.cursor ? { id: { lt: input.cursor } } : {}) },
      orderBy: { id: 'desc' },
      take: input.limit + 1,
    });
    const page = rows.slice(0, input.limit);
    // Rows are written only through recordAudit; one that no longer parses is skipped, not fatal.
    const items: AuditEntryInfo[] = page.flatMap((r) => {
      const parsed = auditEntrySchema.safeParse({ ...r, at: r.at.toISOString(), detail: parseDetail(r.detail) });
      return parsed.success ? [parsed.data] : [];
    });
    return { items, nextCursor: rows.length > input.limit ? page[page.length - 1]!.id : null };
  }),
});

export const settingsRouter = createRouter({
  get: adminProcedure.query(({ ctx }) => loadSettings(ctx.db)),
  update: adminProcedure.input(updateSettingsInputSchema).mutation(async ({ ctx, input }) => {
    const before = await loadSettings(ctx.db);
    const after = await saveSettings(ctx.db, input);
    await recordAudit(ctx.db, { actor: ctx.user, action: 'settings.changed', detail: { before, after }, ip: ctx.request.ip });
    return after;
  }),
});
