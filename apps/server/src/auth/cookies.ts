import type { IncomingMessage } from 'node:http';

export const SESSION_COOKIE = 'chorus_session';
/** The name used when the cookie is Secure: browsers only accept __Host- cookies that are Secure, Path=/ and have no Domain, so no subdomain can set or shadow it. */
export const SECURE_SESSION_COOKIE = `__Host-${SESSION_COOKIE}`;

/** The value of one cookie from the Cookie header (RFC 6265 pairs), or null. */
export function readCookie(req: IncomingMessage, name: string): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim() || null;
  }
  return null;
}

/** HttpOnly (scripts cannot read it), SameSite=Lax (not sent on cross-site POSTs), Secure (and __Host-) over https. */
export function sessionCookie(token: string, expiresAt: Date, secure: boolean): string {
  return [`${secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE}=${token}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Expires=${expiresAt.toUTCString()}`, ...(secure ? ['Secure'] : [])].join('; ');
}

/** Over https both names are cleared: a plain cookie from before the server was behind TLS must not outlive a sign-out. */
export function clearedSessionCookie(secure: boolean): string[] {
  const clear = (name: string): string => [`${name}=`, 'Path=/', 'HttpOnly', 'SameSite=Lax', 'Max-Age=0', ...(secure ? ['Secure'] : [])].join('; ');
  return secure ? [clear(SECURE_SESSION_COOKIE), clear(SESSION_COOKIE)] : [clear(SESSION_COOKIE)];
}
