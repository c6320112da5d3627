import type { IncomingMessage } from 'node:http';
import type { Credential } from '@chorus/api';
import { SECURE_SESSION_COOKIE, SESSION_COOKIE, readCookie } from './cookies.ts';

/** The bearer token of an Authorization header, the session cookie otherwise. */
export function credentialFromRequest(req: IncomingMessage): Credential | null {
  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    // A malformed header is still a credential (an invalid one): it gets 401, never anonymous access.
    return { kind: 'token', token: m ? m[1]! : '' };
  }
  // The __Host- cookie (set over https) wins over a plain one another subdomain could have planted.
  const session = readCookie(req, SECURE_SESSION_COOKIE) ?? readCookie(req, SESSION_COOKIE);
  return session ? { kind: 'session', token: session } : null;
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
