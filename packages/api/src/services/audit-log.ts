import type { Db, Prisma } from '@chorus/db';
import type { AuditAction, AuthUser } from '../schemas/auth.ts';

export interface AuditRecord {
  actor: Pick<AuthUser, 'id' | 'email'> | null;
  /** The address tried, for a failed login with no known actor. */
  actorEmail?: string;
  action: AuditAction;
  target?: { type: string; id: string };
  detail?: Record<string, unknown>;
  ip: string | null;
}

/** One row per security-relevant act; the admin's audit page reads these. */
export async function recordAudit(db: Db, record: AuditRecord): Promise<void> {
  await db.auditEntry.create({
    data: {
      actorId: record.actor?.id ?? null,
      actorEmail: record.actor?.email ?? record.actorEmail ?? null,
      action: record.action,
      targetType: record.target?.type ?? null,
      targetId: record.target?.id ?? null,
      detail: (record.detail ?? {}) as Prisma.InputJsonObject,
      ip: record.ip,
    },
  });
}
