import type { Db } from '@chorus/db';
import type { Credential } from './auth-service.ts';
import { API_TOKEN_PREFIX } from './auth-service.ts';
import { hashSecret } from './secrets.ts';

/** Worker tokens carry their own prefix, so one is never mistaken for a person's API token. */
export const WORKER_TOKEN_PREFIX = 'chorus_wk_';

/** A worker token that works: which one (leases and nodes are tied to it). */
export interface WorkerIdentity {
  tokenId: string;
  tokenName: string;
}

export type WorkerAuthorization = { ok: true; worker: WorkerIdentity } | { ok: false; code: 'UNAUTHORIZED' | 'FORBIDDEN'; message: string };

export const WORKER_ONLY_MESSAGE =
  'This is for standalone inference workers: send a worker token (Authorization: Bearer chorus_wk_…, created by an admin on the Workers page); a person\'s session or API token cannot call it.';
export const NOT_FOR_WORKERS_MESSAGE =
  'This is a worker token: it may only call workerApi.* and /api/worker/…; people sign in or use a personal API token (chorus_pat_…).';

export const isWorkerToken = (credential: Credential | null): boolean => credential?.kind === 'token' && credential.token.startsWith(WORKER_TOKEN_PREFIX);

/** Writes of lastUsedAt at most this often per token (every heartbeat would be a write). */
const TOUCH_MS = 30_000;

/**
 * The one access check for the worker API (tRPC procedures and the /api/worker/… routes):
 * 401 without a credential or with a worker token that is unknown or revoked, 403 for a
 * person's credential (valid or not: none of them ever works here).
 */
export async function authorizeWorker(db: Db, credential: Credential | null): Promise<WorkerAuthorization> {
  if (!credential) return { ok: false, code: 'UNAUTHORIZED', message: `No credential came with the request. ${WORKER_ONLY_MESSAGE}` };
  if (!isWorkerToken(credential)) return { ok: false, code: 'FORBIDDEN', message: WORKER_ONLY_MESSAGE };
  const token = credential.token;
  const secret = token.slice(WORKER_TOKEN_PREFIX.length);
  const invalid = { ok: false, code: 'UNAUTHORIZED', message: 'The worker token is invalid or was revoked: ask an admin for a new one (Workers page) and set CHORUS_WORKER_TOKEN.' } as const;
  // Base64url of a sensible length: anything else cannot be one of ours, so skip the lookup.
  if (!/^[A-Za-z0-9_-]{20,100}$/.test(secret) || token.startsWith(API_TOKEN_PREFIX)) return invalid;
  const row = await db.workerToken.findUnique({ where: { tokenHash: hashSecret(token) }, select: { id: true, name: true, revokedAt: true, lastUsedAt: true } });
  if (!row || row.revokedAt) return invalid;
  const now = Date.now();
  if (!row.lastUsedAt || now - row.lastUsedAt.getTime() > TOUCH_MS) {
    await db.workerToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date(now) } });
  }
  return { ok: true, worker: { tokenId: row.id, tokenName: row.name } };
}

/**
 * The owner string of the leases a registered worker takes: its node id (one per
 * registration, so a restarted worker never mistakes its predecessor's jobs for its own) and
 * the token it registered with (so a route can tell whether a lease belongs to the caller's token).
 */
export const workerLeaseOwner = (workerId: string, tokenId: string): string => `${workerId}#${tokenId}`;

/** The node id a lease owner string names, when a registered worker holds it (the embedded worker's owners are "server@…#run"). */
export function workerIdOfLeaseOwner(owner: string | null): string | null {
  const m = owner ? /^(wrk_[0-9a-z]+)#/.exec(owner) : null;
  return m ? m[1]! : null;
}
