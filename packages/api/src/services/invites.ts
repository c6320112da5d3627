import { TRPCError } from '@trpc/server';
import type { Db, Invite } from '@chorus/db';
import { toAuthUser } from '../auth/auth-service.ts';
import { hashPassword, hashSecret } from '../auth/secrets.ts';
import { newId } from '../ids.ts';
import { roleSchema, type AuthUser, type Role } from '../schemas/auth.ts';

/** An invite that can still be used, or a 400/404 that says why not. */
export async function findUsableInvite(db: Db, token: string): Promise<Invite & { role: Role }> {
  const invite = await db.invite.findUnique({ where: { tokenHash: hashSecret(token) } });
  if (!invite) throw new TRPCError({ code: 'NOT_FOUND', message: 'This invite link is not valid; ask an admin for a new one.' });
  if (invite.usedAt) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'This invite link has already been used; ask an admin for a new one.' });
  if (invite.revokedAt) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'This invite link was withdrawn by an admin; ask for a new one.' });
  if (invite.expiresAt.getTime() <= Date.now()) {
    throw new TRPCError({ code: 'PRECONDITION_FAILED', message: `This invite link expired on ${invite.expiresAt.toISOString()}; ask an admin for a new one.` });
  }
  return { ...invite, role: roleSchema.parse(invite.role) };
}

/** Single use: the account and the "used" mark are one transaction, and only the first caller wins. */
export async function redeemInvite(db: Db, invite: Invite & { role: Role }, person: { email: string; name: string; password: string }): Promise<AuthUser> {
  const passwordHash = await hashPassword(person.password);
  const user = await db.$transaction(async (tx) => {
    const created = await tx.user.create({ data: { id: newId('usr'), email: person.email, name: person.name, role: invite.role, passwordHash } });
    const { count } = await tx.invite.updateMany({ where: { id: invite.id, usedAt: null, revokedAt: null }, data: { usedAt: new Date(), usedById: created.id } });
    if (count !== 1) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'This invite link has already been used; ask an admin for a new one.' });
    return created;
  });
  return toAuthUser(user);
}
