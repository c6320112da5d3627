import type { IncomingMessage } from 'node:http';

/**
 * Cross-site WebSocket hijacking guard: a browser always sends Origin on a WebSocket
 * upgrade, so accept the server's own origin and the configured extras only. Clients that
 * send no Origin (curl, scripts, other services) are not browsers and are let through.
 */
export function isOriginAllowed(req: IncomingMessage, extraOrigins: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (!origin) return true;
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  const host = req.headers.host;
  if (host && parsed.host === host) return true;
  return extraOrigins.includes(parsed.origin);
}
