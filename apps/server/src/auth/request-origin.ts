import type { IncomingMessage } from 'node:http';
import os from 'node:os';
import { isHttps } from './request-identity.ts';

/**
 * Which names this server answers to and which page origins may use it. A DNS-rebinding
 * page has Host and Origin both set to the attacker's name, so the Host is checked against
 * this configured list; an Origin must then be exactly the origin the request was addressed
 * to (scheme, host and port) or one of the configured origins.
 */
export interface OriginPolicy {
  /** Host names (no port) the server is reached by. */
  hosts: ReadonlySet<string>;
  /** Full origins (scheme://host[:port], normalised) allowed besides the request's own origin. */
  origins: ReadonlySet<string>;
  /** Take the request's scheme from X-Forwarded-Proto (a proxy terminates TLS). */
  trustProxy: boolean;
}

/** localhost, loopback, the machine's host name and its interface addresses, plus configured ones. */
export function defaultHosts(): string[] {
  const names = ['localhost', '127.0.0.1', '::1', os.hostname().toLowerCase()];
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const a of addresses ?? []) names.push(a.address.toLowerCase());
  }
  return names;
}

/** "HTTP://Localhost:80/" → "http://localhost" (default ports dropped), or null when it is not an http(s) origin. */
export function normalizeOrigin(origin: string): string | null {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : null;
  } catch {
    return null;
  }
}

export function createOriginPolicy(opts: { publicUrl: string | null; extraHosts: readonly string[]; extraOrigins: readonly string[]; trustProxy: boolean }): OriginPolicy {
  const hosts = new Set([...defaultHosts(), ...opts.extraHosts.map((h) => h.toLowerCase())]);
  const origins = new Set<string>();
  for (const origin of opts.extraOrigins) {
    const normalized = normalizeOrigin(origin);
    if (normalized) origins.add(normalized);
  }
  if (opts.publicUrl) {
    const url = new URL(opts.publicUrl);
    hosts.add(url.hostname.toLowerCase().replace(/^\[|\]$/g, ''));
    origins.add(url.origin);
  }
  return { hosts, origins, trustProxy: opts.trustProxy };
}

/** "example.com:8765" or "[::1]:8765" → host name without port and brackets. */
export function hostName(hostHeader: string): string | null {
  try {
    return new URL(`http://${hostHeader}`).hostname.toLowerCase().replace(/^\[|\]$/g, '');
  } catch {
    return null;
  }
}

/** A host name or IPv4 address, or a bracketed IPv6 address, each with an optional port: nothing else (no userinfo, path, spaces). */
const HOST_SHAPE = /^(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/;

/** Whether a Host header has the shape of a host[:port]; "evil.com@localhost" would otherwise parse as localhost. */
export function isWellFormedHost(host: string | undefined): boolean {
  if (!host) return true; // HTTP/1.0 clients send none
  const m = HOST_SHAPE.exec(host);
  return m !== null && (m[1] === undefined || Number(m[1]) <= 65535);
}

export const MALFORMED_HOST_MESSAGE = 'Malformed Host header: send a host name or IPv4 address with an optional :port, or [IPv6] with an optional :port.';

export function isHostAllowed(req: IncomingMessage, policy: OriginPolicy): boolean {
  const host = req.headers.host;
  if (!host) return true; // HTTP/1.0 clients without Host cannot be a rebinding browser
  if (!isWellFormedHost(host)) return false;
  const name = hostName(host);
  return name !== null && policy.hosts.has(name);
}

/** The origin this request was addressed to: its scheme (as served, or as forwarded by a trusted proxy) and its Host header. */
export function requestOrigin(req: IncomingMessage, trustProxy: boolean): string | null {
  const host = req.headers.host;
  if (!host) return null;
  return normalizeOrigin(`${isHttps(req, trustProxy) ? 'https' : 'http'}://${host}`);
}

/**
 * Exact match only: another app on the same host but another port or scheme (http://localhost:3000)
 * is another origin and must not ride on this server's cookie.
 */
export function isOriginAllowed(origin: string, req: IncomingMessage, policy: OriginPolicy): boolean {
  const normalized = normalizeOrigin(origin);
  if (normalized === null) return false;
  if (policy.origins.has(normalized)) return true;
  return isHostAllowed(req, policy) && requestOrigin(req, policy.trustProxy) === normalized;
}

/**
 * Cross-site request forgery guard for requests that ride on the session cookie: a browser
 * marks where a request came from (Origin, Sec-Fetch-Site); refuse any other site. A client
 * that sends neither header is not a browser, so no other site can have made it send the cookie.
 */
export function crossSiteReason(req: IncomingMessage, policy: OriginPolicy): string | null {
  const origin = req.headers.origin;
  const site = req.headers['sec-fetch-site'];
  if (origin !== undefined && origin !== 'null') {
    return isOriginAllowed(origin, req, policy) ? null : `Origin ${origin} is not allowed to use this server.`;
  }
  if (origin === 'null') return 'Requests from an opaque origin are not allowed.';
  if (site === 'cross-site' || site === 'same-site') return 'Cross-site requests are not allowed.';
  return null;
}
