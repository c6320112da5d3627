import { TRPCError } from '@trpc/server';
import {
  acceptInviteInputSchema,
  changePasswordInputSchema,
  createTokenInputSchema,
  inviteTokenInputSchema,
  loginInputSchema,
  PASSWORD_RULE,
  sessionIdSchema,
  setupInputSchema,
  tokenIdSchema,
  type PersonOption,
  type SessionInfo,
  type TokenInfo,
} from '../schemas/auth.ts';
import { z } from 'zod';
import type { ApiToken } from '@chorus/db';
import { recordAudit } from '../services/audit-log.ts';
import { emailInUse, findUsableInvite, redeemInvite } from '../services/invites.ts';
import { isUniqueViolation } from '../auth/auth-service.ts';
import { SETUP_NEEDED_MESSAGE } from '../auth/authorize.ts';
import { createRouter, publicProcedure, viewerProcedure, type ApiContext } from '../trpc.ts';
import type { AuthUser } from '../schemas/auth.ts';

const LOGIN_FAILED = 'Wrong email or password.';

function httpOnly(ctx: ApiContext) {
  if (!ctx.http) throw new TRPCError({ code: 'BAD_REQUEST', message: 'Sign in over HTTP(S) (POST /trpc/auth.login), not over the WebSocket: the session is a cookie.' });
  return ctx.http;
}

async function startSession(ctx: ApiContext, user: AuthUser): Promise<void> {
  const http = httpOnly(ctx);
  const session = await ctx.auth.createSession(user.id, { ip: ctx.request.ip, userAgent: ctx.request.userAgent });
  http.setSessionCookie(session.token, session.expiresAt);
}

/** 429 with Retry-After (over HTTP; a WebSocket call gets the seconds in the message only). */
function tooManyAttempts(ctx: ApiContext, retryAfterMs: number, what: string): TRPCError {
  const seconds = Math.ceil(retryAfterMs / 1000);
  ctx.http?.setHeader('retry-after', String(seconds));
  return new TRPCError({ code: 'TOO_MANY_REQUESTS', message: `Too many ${what}; try again in ${seconds} s.` });
}

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

export const toTokenInfo = (r: ApiToken): TokenInfo => ({
  id: r.id,
  name: r.name,
  prefix: r.prefix,
  createdAt: r.createdAt.toISOString(),
  lastUsedAt: iso(r.lastUsedAt),
  expiresAt: iso(r.expiresAt),
  revokedAt: iso(r.revokedAt),
});

export const authRouter = createRouter({
  /** Whether setup is done and who is signed in (null when nobody). */
  status: publicProcedure.query(async ({ ctx }) => {
    const ready = await ctx.auth.isSetUp();
    const identity = ready ? await ctx.identity() : null;
    return { ready, user: identity?.user ?? null };
  }),

  /** The setup page: creates the first admin with the one-time token the server logged. */
  setup: publicProcedure.input(setupInputSchema).mutation(async ({ ctx, input }) => {
    if (await ctx.auth.isSetUp()) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'Chorus is already set up; sign in instead.' });
    if (!ctx.auth.checkSetupToken(input.setupToken)) {
      throw new TRPCError({ code: 'UNAUTHORIZED', message: 'This setup link is not valid: use the newest link the server printed at start (a restart prints a new one).' });
    }
    httpOnly(ctx);
    const user = await ctx.auth.createFirstAdmin(input).catch((err: unknown) => {
      // A deactivated account may hold that email; never a 500.
      if (isUniqueViolation(err)) throw emailInUse(input.email);
      throw err;
    });
    if (!user) throw new TRPCError({ code: 'PRECONDITION_FAILED', message: 'Chorus is already set up; sign in instead.' });
    await recordAudit(ctx.db, { actor: user, action: 'setup.admin_created', target: { type: 'user', id: user.id }, ip: ctx.request.ip });
    await startSession(ctx, user);
    return user;
  }),

  login: publicProcedure.input(loginInputSchema).mutation(async ({ ctx, input }) => {
    const http = httpOnly(ctx);
    if (!(await ctx.auth.isSetUp())) throw new TRPCError({ code: 'UNAUTHORIZED', message: SETUP_NEEDED_MESSAGE });
    const outcome = await ctx.auth.login(input.email, input.password, { ip: ctx.request.ip, userAgent: ctx.request.userAgent });
    if (!outcome.ok) {
      if (outcome.reason === 'throttled') throw tooManyAttempts(ctx, outcome.retryAfterMs, 'failed sign-ins');
      await recordAudit(ctx.db, { actor: null, actorEmail: input.email, action: 'auth.login_failed', ip: ctx.request.ip });
      throw new TRPCError({ code: 'UNAUTHORIZED', message: LOGIN_FAILED });
    }
    http.setSessionCookie(outcome.sessionToken, outcome.expiresAt);
    await recordAudit(ctx.db, { actor: outcome.user, action: 'auth.login', target: { type: 'session', id: outcome.sessionId }, ip: ctx.request.ip });
    return outcome.user;
  }),

  logout: publicProcedure.mutation(async ({ ctx }) => {
    const identity = await ctx.identity();
    if (identity?.via === 'session') {
      await ctx.auth.revokeSession(identity.user.id, identity.credentialId);
      await recordAudit(ctx.db, { actor: identity.user, action: 'auth.logout', target: { type: 'session', id: identity.credentialId }, ip: ctx.request.ip });
    }
    ctx.http?.clearSessionCookie();
    return { ok: true };
  }),

  /** What an invite link offers, so the page can say "join as member". */
  invite: publicProcedure.input(inviteTokenInputSchema).query(async ({ ctx, input }) => {
    const invite = await findUsableInvite(ctx.db, input.inviteToken);
    return { role: invite.role, email: invite.email, expiresAt: invite.expiresAt.toISOString() };
  }),

  acceptInvite: publicProcedure.input(acceptInviteInputSchema).mutation(async ({ ctx, input }) => {
    httpOnly(ctx);
    const invite = await findUsableInvite(ctx.db, input.inviteToken);
    if (invite.email && invite.email !== input.email) {
      throw new TRPCError({ code: 'BAD_REQUEST', message: `This invite is for ${invite.email}; use that email address.` });
    }
    if (await ctx.db.user.findUnique({ where: { email: input.email } })) throw emailInUse(input.email);
    const user = await redeemInvite(ctx.db, invite, input);
    await recordAudit(ctx.db, { actor: user, action: 'invite.accepted', target: { type: 'invite', id: invite.id }, detail: { role: invite.role }, ip: ctx.request.ip });
    await startSession(ctx, user);
    return user;
  }),

  me: viewerProcedure.query(({ ctx }) => ctx.user),

  /**
   * Names of everyone with an account, deactivated ones marked (their jobs stay in the shared
   * history, so they must stay filterable); only what job rows already show, no email or role.
   */
  people: viewerProcedure.query(async ({ ctx }): Promise<PersonOption[]> =>
    ctx.db.user.findMany({ orderBy: [{ active: 'desc' }, { name: 'asc' }, { id: 'asc' }], select: { id: true, name: true, active: true } }),
  ),

  changePassword: viewerProcedure.input(changePasswordInputSchema).mutation(async ({ ctx, input }) => {
    const keep = ctx.session.via === 'session' ? ctx.session.credentialId : null;
    const outcome = await ctx.auth.changePassword(ctx.user.id, input.currentPassword, input.newPassword, keep, ctx.request.ip);
    if (!outcome.ok) {
      if (outcome.reason === 'throttled') throw tooManyAttempts(ctx, outcome.retryAfterMs, 'wrong current passwords');
      throw new TRPCError({ code: 'BAD_REQUEST', message: `The current password is wrong. (${PASSWORD_RULE})` });
    }
    await recordAudit(ctx.db, { actor: ctx.user, action: 'auth.password_changed', target: { type: 'user', id: ctx.user.id }, ip: ctx.request.ip });
    return { ok: true };
  }),

  sessions: viewerProcedure.query(async ({ ctx }): Promise<SessionInfo[]> => {
    const now = Date.now();
    const rows = await ctx.db.session.findMany({ where: { userId: ctx.user.id, revokedAt: null, expiresAt: { gt: new Date(now) } }, orderBy: { lastSeenAt: 'desc' } });
    return rows
      .filter((s) => s.lastSeenAt.getTime() + ctx.auth.sessionPolicy.idleMs > now)
      .map((s) => ({
        id: s.id,
        createdAt: s.createdAt.toISOString(),
        lastSeenAt: s.lastSeenAt.toISOString(),
        expiresAt: s.expiresAt.toISOString(),
        ip: s.ip,
        userAgent: s.userAgent,
        current: ctx.session.via === 'session' && ctx.session.credentialId === s.id,
      }));
  }),

  revokeSession: viewerProcedure.input(z.object({ sessionId: sessionIdSchema })).mutation(async ({ ctx, input }) => {
    if (!(await ctx.auth.revokeSession(ctx.user.id, input.sessionId))) {
      throw new TRPCError({ code: 'NOT_FOUND', message: `You have no active session "${input.sessionId}".` });
    }
    await recordAudit(ctx.db, { actor: ctx.user, action: 'session.revoked', target: { type: 'session', id: input.sessionId }, ip: ctx.request.ip });
    return { ok: true };
  }),

  tokens: viewerProcedure.query(async ({ ctx }): Promise<TokenInfo[]> => {
    const rows = await ctx.db.apiToken.findMany({ where: { userId: ctx.user.id }, orderBy: { createdAt: 'desc' } });
    return rows.map(toTokenInfo);
  }),

  /** The token is in this answer only: it is stored hashed. Needs the current password, as a token outlives the session. */
  createToken: viewerProcedure.input(createTokenInputSchema).mutation(async ({ ctx, input }) => {
    const checked = await ctx.auth.checkCurrentPassword(ctx.user.id, input.currentPassword, ctx.request.ip);
    if (!checked.ok) {
      if (checked.reason === 'throttled') throw tooManyAttempts(ctx, checked.retryAfterMs, 'wrong current passwords');
      throw new TRPCError({ code: 'BAD_REQUEST', message: 'Wrong password.' });
    }
    const { token, id } = await ctx.auth.createApiToken(ctx.user.id, input.name, input.expiresInDays);
    await recordAudit(ctx.db, { actor: ctx.user, action: 'token.created', target: { type: 'token', id }, detail: { name: input.name }, ip: ctx.request.ip });
    return { id, token };
  }),

  revokeToken: viewerProcedure.input(z.object({ tokenId: tokenIdSchema })).mutation(async ({ ctx, input }) => {
    if (!(await ctx.auth.revokeToken(ctx.user.id, input.tokenId))) {
      throw new TRPCError({ code: 'NOT_FOUND', message: `You have no active token "${input.tokenId}".` });
    }
    await recordAudit(ctx.db, { actor: ctx.user, action: 'token.revoked', target: { type: 'token', id: input.tokenId }, ip: ctx.request.ip });
    return { ok: true };
  }),
});

