import type { IncomingMessage } from 'node:http';
import type { Credential } from '@chorus/api';
import { SESSION_COOKIE, readCookie } from './cookies.ts';

/** The bearer token of an Authorization header, the session cookie otherwise. */
export function credentialFromRequest(req: IncomingMessage): Credential | null {
  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    // A malformed header is still a credential (an invalid one): it gets 401, never anonymous access.
    return { kind: 'token', token: m ? m[1]! : '' };
  }
  const session = readCookie(req, SESSION_COOKIE);
  return session ? { kind: 'session', token: session } : null;
}

/** The client's address: the socket's, or the first X-Forwarded-For hop behind a trusted proxy. */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string | null {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
    if (first) return first.slice(0, 64);
  }
  return req.socket.remoteAddress ?? null;
}

export function isHttps(req: IncomingMessage, trustProxy: boolean): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted) return true;
  return trustProxy && String(req.headers['x-forwarded-proto'] ?? '').split(',')[0]?.trim() === 'https';
}
