import { TRPCError } from '@trpc/server';
import type { Db, Invite } from '@chorus/db';
import { isUniqueViolation, toAuthUser } from '../auth/auth-service.ts';
import { hashPassword, hashSecret } from '../auth/secrets.ts';
import { newId } from '../ids.ts';
import { roleSchema, type AuthUser, type Role } from '../schemas/auth.ts';

const ALREADY_USED = 'This invite link has already been used; ask an admin for a new one.';

/** An invite that can still be used, or a 400/404 that says why not. */
export async function findUsableInvite(db: Db, token: string): Promise<Invite & { role: Role }> {
  const invite = await db.invite.findUnique({ where: { tokenHash: hashSecret(token) } });
  if (!invite) throw new TRPCError({ code: 'NOT_FOUND', message: 'This invite link is not valid; ask an admin for a new one.' });
  if (invite.usedAt) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: ALREADY_USED });
  if (invite.revokedAt) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'This invite link was withdrawn by an admin; ask for a new one.' });
  if (invite.expiresAt.getTime() <= Date.now()) {
    throw new TRPCError({ code: 'PRECONDITION_FAILED', message: `This invite link expired on ${invite.expiresAt.toISOString()}; ask an admin for a new one.` });
  }
  return { ...invite, role: roleSchema.parse(invite.role) };
}

/** 409 for an email another account has (also when it was taken a moment ago by a racing request). */
export const emailInUse = (email: string): TRPCError =>
  new TRPCError({ code: 'CONFLICT', message: `That email is already in use (${email}); sign in with it, or ask an admin.` });

/**
 * Single use: the invite is claimed (only if still open), then the account is created, in one
 * transaction; a lost race on the invite is a 412, on the email a 409, never a 500.
 */
export async function redeemInvite(db: Db, invite: Invite & { role: Role }, person: { email: string; name: string; password: string }): Promise<AuthUser> {
  const passwordHash = await hashPassword(person.password);
  try {
    const user = await db.$transaction(async (tx) => {
      const { count } = await tx.invite.updateMany({ where: { id: invite.id, usedAt: null, revokedAt: null }, data: { usedAt: new Date() } });
      if (count !== 1) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: ALREADY_USED });
      const created = await tx.user.create({ data: { id: newId('usr'), email: person.email, name: person.name, role: invite.role, passwordHash } });
      await tx.invite.update({ where: { id: invite.id }, data: { usedById: created.id } });
      return created;
    });
    return toAuthUser(user);
  } catch (err) {
    if (isUniqueViolation(err)) throw emailInUse(person.email);
    throw err;
  }
}
