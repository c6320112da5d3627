import type { IncomingMessage } from 'node:http';
import type { Credential } from '@chorus/api';
import { SECURE_SESSION_COOKIE, SESSION_COOKIE, cookieValues } from './cookies.ts';

export const TWO_SESSION_COOKIES_MESSAGE = 'Two session cookies came with this request; sign in again.';

/**
 * Applies the session-cookie rule before anything reads a credential. Browsers do not separate
 * cookies by port, so another app on this host can plant its own chorus_session (say with
 * Path=/trpc, which browsers send first). Over https (secure) only the __Host- name counts and
 * plain ones are removed from the request; more than one session cookie left is a 'conflict'.
 */
export function settleSessionCookies(req: IncomingMessage, secure: boolean): 'ok' | 'conflict' {
  if (secure && cookieValues(req, SESSION_COOKIE).length > 0) {
    req.headers.cookie = (req.headers.cookie ?? '')
      .split(';')
      .filter((part) => part.slice(0, Math.max(part.indexOf('='), 0)).trim() !== SESSION_COOKIE)
      .join(';');
  }
  return cookieValues(req, SECURE_SESSION_COOKIE).length + cookieValues(req, SESSION_COOKIE).length > 1 ? 'conflict' : 'ok';
}

/** The bearer token of an Authorization header, the session cookie otherwise. */
export function credentialFromRequest(req: IncomingMessage): Credential | null {
  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    // A malformed header is still a credential (an invalid one): it gets 401, never anonymous access.
    return { kind: 'token', token: m ? m[1]! : '' };
  }
  const sessions = [...cookieValues(req, SECURE_SESSION_COOKIE), ...cookieValues(req, SESSION_COOKIE)];
  // Never pick one of two session cookies (the first may be planted): an invalid credential gets 401.
  if (sessions.length > 1) return { kind: 'session', token: '' };
  return sessions[0] ? { kind: 'session', token: sessions[0] } : null;
}

/** The last entry of a comma-separated forwarding header (duplicate headers are joined by Node). */
function lastForwarded(value: string | string[] | undefined): string | null {
  const joined = Array.isArray(value) ? value.join(',') : value;
  const entries = (joined ?? '').split(',').map((v) => v.trim()).filter(Boolean);
  return entries.at(-1) ?? null;
}

/**
 * The client's address: the socket's, or, behind a trusted proxy, the right-most
 * X-Forwarded-For entry (the one our proxy appended; entries left of it are whatever the client sent).
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string | null {
  if (trustProxy) {
    const last = lastForwarded(req.headers['x-forwarded-for']);
    if (last) return last.slice(0, 64);
  }
  return req.socket.remoteAddress ?? null;
}

/** Served over TLS, or (behind a trusted proxy) forwarded as https by the nearest proxy. */
export function isHttps(req: IncomingMessage, trustProxy: boolean): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted) return true;
  return trustProxy && lastForwarded(req.headers['x-forwarded-proto'])?.toLowerCase() === 'https';
}
