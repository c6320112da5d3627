import { ROLE_RANK, type Role } from '../schemas/auth.ts';
import type { AuthService, Credential, Identity } from './auth-service.ts';
import { isWorkerToken, NOT_FOR_WORKERS_MESSAGE } from './worker-auth.ts';

export const SETUP_NEEDED_MESSAGE =
  'Chorus is not set up yet: open the one-time setup link the server printed when it started (a line with "/#/setup?token="), ' +
  'or set CHORUS_ADMIN_EMAIL and CHORUS_ADMIN_PASSWORD and restart it.';

export type Authorization = { ok: true; identity: Identity } | { ok: false; code: 'UNAUTHORIZED' | 'FORBIDDEN'; message: string };

/** The one access check for tRPC procedures and plain HTTP routes alike. */
export async function authorize(auth: AuthService, credential: Credential | null, identity: () => Promise<Identity | null>, min: Role): Promise<Authorization> {
  if (!(await auth.isSetUp())) return { ok: false, code: 'UNAUTHORIZED', message: SETUP_NEEDED_MESSAGE };
  // A machine's credential: no person's procedure or route is ever open to it.
  if (isWorkerToken(credential)) return { ok: false, code: 'FORBIDDEN', message: NOT_FOR_WORKERS_MESSAGE };
  const who = await identity();
  if (!who) {
    return {
      ok: false,
      code: 'UNAUTHORIZED',
      message: credential
        ? 'Your session has ended, or the API token is invalid, expired or revoked: sign in again or use a valid token.'
        : 'Sign in first: this needs a session cookie (sign in on the web page) or an API token (Authorization: Bearer …).',
    };
  }
  if (ROLE_RANK[who.user.role] < ROLE_RANK[min]) {
    return { ok: false, code: 'FORBIDDEN', message: `This needs the ${min} role or higher; you are a ${who.user.role}.` };
  }
  return { ok: true, identity: who };
}
