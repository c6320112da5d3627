import { EventEmitter } from 'node:events';
import { Prisma, type Db, type User } from '@chorus/db';
import { newId } from '../ids.ts';
import { roleSchema, type AuthUser, type Role } from '../schemas/auth.ts';
import { decoyPasswordHash, hashPassword, hashSecret, newSecret, verifyPassword } from './secrets.ts';
import { LoginThrottle } from './login-throttle.ts';

export interface SessionPolicy {
  /** A session unused for this long ends. */
  idleMs: number;
  /** A session ends this long after sign-in, however busy. */
  absoluteMs: number;
}

export const DEFAULT_SESSION_POLICY: SessionPolicy = { idleMs: 7 * 24 * 3600_000, absoluteMs: 30 * 24 * 3600_000 };

/** Who made a request and with what: a browser session or a personal access token. */
export interface Identity {
  user: AuthUser;
  via: 'session' | 'token';
  /** The Session or ApiToken id. */
  credentialId: string;
}

/** A credential as it arrived; resolved against the database on every use. */
export type Credential = { kind: 'session'; token: string } | { kind: 'token'; token: string };

/** API tokens carry a recognisable prefix so they are easy to spot in a leaked file. */
export const API_TOKEN_PREFIX = 'chorus_pat_';

/** Writes of last-seen / last-used times at most this often per credential. */
const TOUCH_MS = 30_000;

export const toAuthUser = (u: Pick<User, 'id' | 'email' | 'name' | 'role'>): AuthUser => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: roleSchema.parse(u.role),
});

/** Why a password check was refused: wrong, or too many wrong ones lately (wait retryAfterMs). */
export type PasswordRefusal = { ok: false; reason: 'invalid' } | { ok: false; reason: 'throttled'; retryAfterMs: number };

export type LoginOutcome = { ok: true; user: AuthUser; sessionToken: string; sessionId: string; expiresAt: Date } | PasswordRefusal;

export type PasswordChangeOutcome = { ok: true } | PasswordRefusal;

/** Prisma's unique-index violation (P2002): an email taken, also by a request racing this one. */
export const isUniqueViolation = (err: unknown): boolean =>
  err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';

/**
 * Accounts, sessions and tokens on the database. Every request resolves its credential here,
 * so a revoked session, a revoked token or a deactivated member stops working at once.
 */
export class AuthService {
  readonly throttle: LoginThrottle;
  /** Emits 'revoked' when sessions or tokens stop being valid, so live sockets are re-checked now. */
  readonly revocations = new EventEmitter();
  private setUp = false;
  private setupTokenHash: string | null = null;

  constructor(
    private readonly db: Db,
    readonly sessionPolicy: SessionPolicy = DEFAULT_SESSION_POLICY,
    throttle?: LoginThrottle,
  ) {
    this.throttle = throttle ?? new LoginThrottle();
  }

  /** True once an active admin exists (it cannot stop being true: the last admin is protected). */
  async isSetUp(): Promise<boolean> {
    if (this.setUp) return true;
    this.setUp = (await this.db.user.count({ where: { role: 'admin', active: true } })) > 0;
    return this.setUp;
  }

  /** A one-time secret for the setup page; only its hash is kept, in this process. */
  issueSetupToken(): string {
    const token = newSecret();
    this.setupTokenHash = hashSecret(token);
    return token;
  }

  checkSetupToken(token: string): boolean {
    return this.setupTokenHash !== null && hashSecret(token) === this.setupTokenHash;
  }

  /**
   * The first admin (setup page or CHORUS_ADMIN_EMAIL/PASSWORD); refuses once an active one
   * exists (a deactivated admin neither blocks nor completes setup). An email already taken
   * (e.g. by that deactivated admin) throws Prisma's unique violation: see isUniqueViolation.
   */
  async createFirstAdmin(input: { email: string; name: string; password: string }): Promise<AuthUser | null> {
    const passwordHash = await hashPassword(input.password);
    // Count and create in one transaction, so concurrent setups make exactly one admin.
    const created = await this.db.$transaction(async (tx) => {
      if ((await tx.user.count({ where: { role: 'admin', active: true } })) > 0) return null;
      return tx.user.create({ data: { id: newId('usr'), email: input.email, name: input.name, role: 'admin', passwordHash } });
    });
    if (!created) return null;
    this.setUp = true;
    this.setupTokenHash = null;
    return toAuthUser(created);
  }

  async createUser(input: { email: string; name: string; password: string; role: Role }): Promise<AuthUser> {
    const user = await this.db.user.create({
      data: { id: newId('usr'), email: input.email, name: input.name, role: input.role, passwordHash: await hashPassword(input.password) },
    });
    return toAuthUser(user);
  }

  /** Email + password → a new session. Unknown email and wrong password are the same failure. */
  async login(email: string, password: string, meta: { ip: string | null; userAgent: string | null }): Promise<LoginOutcome> {
    // Reserved before the slow hash: parallel attempts cannot all pass the limit.
    const attempt = this.throttle.reserve(email, meta.ip ?? 'unknown', 'sign-in');
    if (!attempt.ok) return { ok: false, reason: 'throttled', retryAfterMs: attempt.retryAfterMs };
    const user = await this.db.user.findUnique({ where: { email } });
    const valid = await verifyPassword(password, user?.passwordHash ?? (await decoyPasswordHash()));
    if (!user || !valid || !user.active) {
      attempt.failed();
      return { ok: false, reason: 'invalid' };
    }
    attempt.succeeded();
    const { token, id, expiresAt } = await this.createSession(user.id, meta);
    return { ok: true, user: toAuthUser(user), sessionToken: token, sessionId: id, expiresAt };
  }

  async createSession(userId: string, meta: { ip: string | null; userAgent: string | null }): Promise<{ token: string; id: string; expiresAt: Date }> {
    const token = newSecret();
    const expiresAt = new Date(Date.now() + this.sessionPolicy.absoluteMs);
    const session = await this.db.session.create({
      data: { id: newId('ses'), tokenHash: hashSecret(token), userId, expiresAt, ip: meta.ip, userAgent: meta.userAgent?.slice(0, 300) ?? null },
    });
    return { token, id: session.id, expiresAt };
  }

  /** The identity behind a credential, or null when it is unknown, expired, revoked or its user is deactivated. */
  async resolve(credential: Credential): Promise<Identity | null> {
    return credential.kind === 'session' ? this.resolveSession(credential.token) : this.resolveToken(credential.token);
  }

  private async resolveSession(token: string): Promise<Identity | null> {
    if (!isPlausibleSecret(token)) return null;
    const session = await this.db.session.findUnique({ where: { tokenHash: hashSecret(token) }, include: { user: true } });
    if (!session || session.revokedAt || !session.user.active) return null;
    const now = Date.now();
    if (session.expiresAt.getTime() <= now || session.lastSeenAt.getTime() + this.sessionPolicy.idleMs <= now) return null;
    if (now - session.lastSeenAt.getTime() > TOUCH_MS) {
      await this.db.session.update({ where: { id: session.id }, data: { lastSeenAt: new Date(now) } });
    }
    return { user: toAuthUser(session.user), via: 'session', credentialId: session.id };
  }

  private async resolveToken(token: string): Promise<Identity | null> {
    if (!token.startsWith(API_TOKEN_PREFIX) || !isPlausibleSecret(token.slice(API_TOKEN_PREFIX.length))) return null;
    const row = await this.db.apiToken.findUnique({ where: { tokenHash: hashSecret(token) }, include: { user: true } });
    if (!row || row.revokedAt || !row.user.active) return null;
    const now = Date.now();
    if (row.expiresAt && row.expiresAt.getTime() <= now) return null;
    if (!row.lastUsedAt || now - row.lastUsedAt.getTime() > TOUCH_MS) {
      await this.db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date(now) } });
    }
    return { user: toAuthUser(row.user), via: 'token', credentialId: row.id };
  }

  async createApiToken(userId: string, name: string, expiresInDays?: number): Promise<{ token: string; id: string }> {
    const token = API_TOKEN_PREFIX + newSecret();
    const row = await this.db.apiToken.create({
      data: {
        id: newId('tok'),
        userId,
        name,
        tokenHash: hashSecret(token),
        prefix: token.slice(0, API_TOKEN_PREFIX.length + 6),
        expiresAt: expiresInDays ? new Date(Date.now() + expiresInDays * 24 * 3600_000) : null,
      },
    });
    return { token, id: row.id };
  }

  /**
   * A signed-in person's password, checked again before a sensitive change, under the
   * re-authentication limit for this account from this address (a stolen session must not
   * brute-force it; strangers' failed sign-ins do not count here, so they cannot block it).
   */
  async checkCurrentPassword(userId: string, currentPassword: string, address: string | null): Promise<{ ok: true } | PasswordRefusal> {
    const user = await this.db.user.findUnique({ where: { id: userId } });
    if (!user) return { ok: false, reason: 'invalid' };
    // Reserved before the slow hash, like a sign-in: parallel guesses cannot pass the limit.
    const attempt = this.throttle.reserve(user.email, address ?? 'unknown', 'reauth');
    if (!attempt.ok) return { ok: false, reason: 'throttled', retryAfterMs: attempt.retryAfterMs };
    if (!(await verifyPassword(currentPassword, user.passwordHash))) {
      attempt.failed();
      return { ok: false, reason: 'invalid' };
    }
    attempt.succeeded();
    return { ok: true };
  }

  /** Checks the current password (checkCurrentPassword), then ends every other session; API tokens stay (listed and revocable). */
  async changePassword(userId: string, currentPassword: string, newPassword: string, keepSessionId: string | null, address: string | null): Promise<PasswordChangeOutcome> {
    const checked = await this.checkCurrentPassword(userId, currentPassword, address);
    if (!checked.ok) return checked;
    await this.db.$transaction([
      this.db.user.update({ where: { id: userId }, data: { passwordHash: await hashPassword(newPassword) } }),
      // Other sign-ins end: whoever knew the old password is out.
      this.db.session.updateMany({ where: { userId, revokedAt: null, ...(keepSessionId ? { id: { not: keepSessionId } } : {}) }, data: { revokedAt: new Date() } }),
    ]);
    this.revocations.emit('revoked');
    return { ok: true };
  }

  async revokeSession(userId: string, sessionId: string): Promise<boolean> {
    const { count } = await this.db.session.updateMany({ where: { id: sessionId, userId, revokedAt: null }, data: { revokedAt: new Date() } });
    if (count > 0) this.revocations.emit('revoked');
    return count > 0;
  }

  async revokeToken(userId: string, tokenId: string): Promise<boolean> {
    const { count } = await this.db.apiToken.updateMany({ where: { id: tokenId, userId, revokedAt: null }, data: { revokedAt: new Date() } });
    if (count > 0) this.revocations.emit('revoked');
    return count > 0;
  }

  /**
   * Of these live credentials, the ones that no longer work (two queries however many sockets);
   * `roles` has the current role behind each one that still works, so a role change is seen too.
   */
  async invalidCredentials(sessionIds: readonly string[], tokenIds: readonly string[]): Promise<Set<string> & { roles: ReadonlyMap<string, Role> }> {
    const now = Date.now();
    const [sessions, tokens] = await Promise.all([
      sessionIds.length ? this.db.session.findMany({ where: { id: { in: [...sessionIds] } }, include: { user: { select: { active: true, role: true } } } }) : [],
      tokenIds.length ? this.db.apiToken.findMany({ where: { id: { in: [...tokenIds] } }, include: { user: { select: { active: true, role: true } } } }) : [],
    ]);
    const roles = new Map<string, Role>();
    for (const s of sessions) {
      if (!s.revokedAt && s.user.active && s.expiresAt.getTime() > now && s.lastSeenAt.getTime() + this.sessionPolicy.idleMs > now) roles.set(s.id, roleSchema.parse(s.user.role));
    }
    for (const t of tokens) if (!t.revokedAt && t.user.active && (!t.expiresAt || t.expiresAt.getTime() > now)) roles.set(t.id, roleSchema.parse(t.user.role));
    return Object.assign(new Set([...sessionIds, ...tokenIds].filter((id) => !roles.has(id))), { roles });
  }

  /** Tell live connections that credentials may have stopped working (role change, deactivation). */
  notifyRevoked(): void {
    this.revocations.emit('revoked');
  }
}

/** Base64url of a sensible length: anything else cannot be one of ours, so skip the lookup. */
const isPlausibleSecret = (s: string): boolean => s.length >= 20 && s.length <= 100 && /^[A-Za-z0-9_-]+$/.test(s);
