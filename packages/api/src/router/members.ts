import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { hashSecret, newSecret } from '../auth/secrets.ts';
import { newId } from '../ids.ts';
import { createInviteInputSchema, inviteIdSchema, setRoleInputSchema, tokenIdSchema, userRefInputSchema, type InviteInfo, type Member } from '../schemas/auth.ts';
import { toTokenInfo } from './auth.ts';
import { providerOf, type Prisma, type User } from '@chorus/db';
import { recordAudit } from '../services/audit-log.ts';
import { adminProcedure, createRouter, type AuthedContext } from '../trpc.ts';
import { roleSchema } from '../schemas/auth.ts';

const toMember = (u: User): Member => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: roleSchema.parse(u.role),
  active: u.active,
  createdAt: u.createdAt.toISOString(),
  deactivatedAt: u.deactivatedAt?.toISOString() ?? null,
});

async function findUser(ctx: AuthedContext, userId: string): Promise<User> {
  const user = await ctx.db.user.findUnique({ where: { id: userId } });
  if (!user) throw new TRPCError({ code: 'NOT_FOUND', message: `No member "${userId}".` });
  return user;
}

type Tx = Prisma.TransactionClient;

/**
 * Change a member in one transaction that ends with the workspace still having an active
 * admin: the count runs after the update, inside the transaction, so two admins demoting or
 * deactivating each other at once cannot both pass; the loser's change is rolled back.
 */
async function changeMember(ctx: AuthedContext, userId: string, change: string, apply: (tx: Tx, user: User) => Promise<User>): Promise<{ before: User; after: User }> {
  return ctx.db.$transaction(async (tx) => {
    // SQLite runs one write transaction at a time; PostgreSQL (read committed) would let two
    // of these count admins side by side, so they take turns on a transaction-scoped lock.
    if (providerOf(ctx.db) === 'postgresql') await tx.$executeRawUnsafe('SELECT pg_advisory_xact_lock(1131377266)');
    const before = await tx.user.findUnique({ where: { id: userId } });
    if (!before) throw new TRPCError({ code: 'NOT_FOUND', message: `No member "${userId}".` });
    const after = await apply(tx, before);
    if (before.role === 'admin' && before.active && (await tx.user.count({ where: { role: 'admin', active: true } })) === 0) {
      throw new TRPCError({ code: 'PRECONDITION_FAILED', message: `Cannot ${change} ${before.email}: they are the last active admin. Make another member an admin first.` });
    }
    return { before, after };
  });
}

/** Revoke every live session and API token of a person (revokedAt, as sign-out and token revocation do). */
async function revokeCredentials(tx: Tx, userId: string, now: Date): Promise<void> {
  await tx.session.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: now } });
  await tx.apiToken.updateMany({ where: { userId, revokedAt: null }, data: { revokedAt: now } });
}

export const membersRouter = createRouter({
  list: adminProcedure.query(async ({ ctx }) => (await ctx.db.user.findMany({ orderBy: { createdAt: 'asc' } })).map(toMember)),

  setRole: adminProcedure.input(setRoleInputSchema).mutation(async ({ ctx, input }) => {
    const user = await findUser(ctx, input.userId);
    if (user.role === input.role) return toMember(user);
    const { before, after } = await changeMember(ctx, user.id, `make ${input.role}`, (tx, current) => tx.user.update({ where: { id: current.id }, data: { role: input.role } }));
    if (before.role === after.role) return toMember(after);
    ctx.auth.notifyRevoked();
    await recordAudit(ctx.db, { actor: ctx.user, action: 'member.role_changed', target: { type: 'user', id: user.id }, detail: { from: before.role, to: input.role }, ip: ctx.request.ip });
    return toMember(after);
  }),

  /**
   * Their sessions and tokens are revoked with the deactivation (so reactivating brings none
   * back); open sockets are closed within seconds.
   */
  deactivate: adminProcedure.input(userRefInputSchema).mutation(async ({ ctx, input }) => {
    const user = await findUser(ctx, input.userId);
    if (!user.active) return toMember(user);
    const { before, after: updated } = await changeMember(ctx, user.id, 'deactivate', async (tx, current) => {
      if (!current.active) return current;
      const now = new Date();
      await revokeCredentials(tx, current.id, now);
      return tx.user.update({ where: { id: current.id }, data: { active: false, deactivatedAt: now } });
    });
    if (!before.active) return toMember(updated);
    ctx.auth.notifyRevoked();
    await recordAudit(ctx.db, { actor: ctx.user, action: 'member.deactivated', target: { type: 'user', id: user.id }, detail: { email: user.email }, ip: ctx.request.ip });
    return toMember(updated);
  }),

  reactivate: adminProcedure.input(userRefInputSchema).mutation(async ({ ctx, input }) => {
    const user = await findUser(ctx, input.userId);
    if (user.active) return toMember(user);
    // Anything that escaped the deactivation (a sign-in finishing meanwhile, or one deactivated before revocation existed) dies now.
    const updated = await ctx.db.$transaction(async (tx) => {
      await revokeCredentials(tx, user.id, new Date());
      return tx.user.update({ where: { id: user.id }, data: { active: true, deactivatedAt: null } });
    });
    ctx.auth.notifyRevoked();
    await recordAudit(ctx.db, { actor: ctx.user, action: 'member.reactivated', target: { type: 'user', id: user.id }, detail: { email: user.email }, ip: ctx.request.ip });
    return toMember(updated);
  }),

  /** Anyone's API tokens (scripts, future workers), without the secrets. */
  tokens: adminProcedure.input(userRefInputSchema).query(async ({ ctx, input }) => {
    const user = await findUser(ctx, input.userId);
    const rows = await ctx.db.apiToken.findMany({ where: { userId: user.id }, orderBy: { createdAt: 'desc' } });
    return rows.map(toTokenInfo);
  }),

  revokeToken: adminProcedure.input(z.object({ tokenId: tokenIdSchema })).mutation(async ({ ctx, input }) => {
    const token = await ctx.db.apiToken.findUnique({ where: { id: input.tokenId } });
    if (!token || token.revokedAt || !(await ctx.auth.revokeToken(token.userId, token.id))) {
      throw new TRPCError({ code: 'NOT_FOUND', message: `No active token "${input.tokenId}".` });
    }
    await recordAudit(ctx.db, { actor: ctx.user, action: 'token.revoked', target: { type: 'token', id: token.id }, detail: { owner: token.userId }, ip: ctx.request.ip });
    return { ok: true };
  }),

  invites: adminProcedure.query(async ({ ctx }): Promise<InviteInfo[]> => {
    const rows = await ctx.db.invite.findMany({ orderBy: { createdAt: 'desc' }, take: 200, include: { createdBy: { select: { email: true } } } });
    return rows.map((r) => ({
      id: r.id,
      role: roleSchema.parse(r.role),
      email: r.email,
      createdAt: r.createdAt.toISOString(),
      expiresAt: r.expiresAt.toISOString(),
      usedAt: r.usedAt?.toISOString() ?? null,
      revokedAt: r.revokedAt?.toISOString() ?? null,
      createdBy: r.createdBy.email,
    }));
  }),

  /** The link's secret is in this answer only (stored hashed): `/#/invite?token=…`. */
  createInvite: adminProcedure.input(createInviteInputSchema).mutation(async ({ ctx, input }) => {
    if (input.email && (await ctx.db.user.findUnique({ where: { email: input.email } }))) {
      throw new TRPCError({ code: 'CONFLICT', message: `The email ${input.email} is already in use by a member.` });
    }
    const token = newSecret();
    const invite = await ctx.db.invite.create({
      data: {
        id: newId('inv'),
        tokenHash: hashSecret(token),
        role: input.role,
        email: input.email ?? null,
        createdById: ctx.user.id,
        expiresAt: new Date(Date.now() + input.expiresInHours * 3600_000),
      },
    });
    await recordAudit(ctx.db, { actor: ctx.user, action: 'invite.created', target: { type: 'invite', id: invite.id }, detail: { role: input.role, email: input.email ?? null }, ip: ctx.request.ip });
    return { id: invite.id, token, path: `/#/invite?token=${token}`, expiresAt: invite.expiresAt.toISOString() };
  }),

  revokeInvite: adminProcedure.input(z.object({ inviteId: inviteIdSchema })).mutation(async ({ ctx, input }) => {
    const { count } = await ctx.db.invite.updateMany({ where: { id: input.inviteId, usedAt: null, revokedAt: null }, data: { revokedAt: new Date() } });
    if (count === 0) throw new TRPCError({ code: 'NOT_FOUND', message: `No open invite "${input.inviteId}".` });
    await recordAudit(ctx.db, { actor: ctx.user, action: 'invite.revoked', target: { type: 'invite', id: input.inviteId }, ip: ctx.request.ip });
    return { ok: true };
  }),
});
