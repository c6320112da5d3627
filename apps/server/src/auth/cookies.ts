import type { IncomingMessage } from 'node:http';

export const SESSION_COOKIE = 'chorus_session';
/** The name used when the cookie is Secure: browsers only accept __Host- cookies that are Secure, Path=/ and have no Domain, so no subdomain can set or shadow it. */
export const SECURE_SESSION_COOKIE = `__Host-${SESSION_COOKIE}`;

/** Every value sent for one cookie name, in header order (RFC 6265 pairs; the same name can come several times, from different paths). */
export function cookieValues(req: IncomingMessage, name: string): string[] {
  const header = req.headers.cookie;
  if (!header) return [];
  const values: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
  }
  return values;
}

/** The value of a cookie sent exactly once, or null: with two, the first may be one another app on this host planted. */
export function readCookie(req: IncomingMessage, name: string): string | null {
  const values = cookieValues(req, name);
  return values.length === 1 ? values[0]! || null : null;
}

/** HttpOnly (scripts cannot read it), SameSite=Lax (not sent on cross-site POSTs), Secure (and __Host-) over https. */
export function sessionCookie(token: string, expiresAt: Date, secure: boolean): string {
  return [`${secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE}=${token}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Expires=${expiresAt.toUTCString()}`, ...(secure ? ['Secure'] : [])].join('; ');
}

const clearCookie = (name: string, path: string, secure: boolean): string => [`${name}=`, `Path=${path}`, 'HttpOnly', 'SameSite=Lax', 'Max-Age=0', ...(secure ? ['Secure'] : [])].join('; ');

/** Over https both names are cleared: a plain cookie from before the server was behind TLS must not outlive a sign-out. */
export function clearedSessionCookie(secure: boolean): string[] {
  return secure ? [clearCookie(SECURE_SESSION_COOKIE, '/', true), clearCookie(SESSION_COOKIE, '/', true)] : [clearCookie(SESSION_COOKIE, '/', false)];
}

/** Most cookie paths tried when clearing planted cookies (each path segment gives two). */
const MAX_CLEARED_PATHS = 16;

/**
 * Every cookie Path that could have sent a cookie to this request path (RFC 6265 path-match):
 * "/trpc/auth.me" → "/", "/trpc", "/trpc/", "/trpc/auth.me".
 */
export function cookiePathsFor(pathname: string): string[] {
  const paths = ['/'];
  for (let i = 2; i <= pathname.length && paths.length < MAX_CLEARED_PATHS; i++) {
    const prefix = pathname.slice(0, i);
    if (prefix === pathname || prefix.endsWith('/') || pathname[i] === '/') paths.push(prefix);
  }
  // A Path attribute cannot hold ';' or control characters; such a prefix cannot have been set either.
  return [...new Set(paths)].filter((p) => /^[\x21-\x3a\x3c-\x7e]+$/.test(p));
}

/**
 * Clears the session cookie at every path that could have sent one to this request, so a cookie
 * another app on this host planted with a narrower Path (e.g. Path=/trpc) goes too. The __Host-
 * cookie only exists at Path=/ and can only be cleared over https.
 */
export function clearedShadowedSessionCookies(pathname: string, secure: boolean): string[] {
  const plain = cookiePathsFor(pathname).map((p) => clearCookie(SESSION_COOKIE, p, secure));
  return secure ? [clearCookie(SECURE_SESSION_COOKIE, '/', true), ...plain] : plain;
}
