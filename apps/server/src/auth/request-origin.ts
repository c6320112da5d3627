import type { IncomingMessage } from 'node:http';
import os from 'node:os';

/**
 * Which names this server answers to and which page origins may use it. A DNS-rebinding
 * page has Host and Origin both set to the attacker's name, so comparing the two proves
 * nothing: both are checked against this configured list instead.
 */
export interface OriginPolicy {
  /** Host names (no port) the server is reached by. */
  hosts: ReadonlySet<string>;
  /** Full origins allowed besides any origin whose host is in `hosts`. */
  origins: ReadonlySet<string>;
}

/** localhost, loopback, the machine's host name and its interface addresses, plus configured ones. */
export function defaultHosts(): string[] {
  const names = ['localhost', '127.0.0.1', '::1', os.hostname().toLowerCase()];
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const a of addresses ?? []) names.push(a.address.toLowerCase());
  }
  return names;
}

export function createOriginPolicy(opts: { publicUrl: string | null; extraHosts: readonly string[]; extraOrigins: readonly string[] }): OriginPolicy {
  const hosts = new Set([...defaultHosts(), ...opts.extraHosts.map((h) => h.toLowerCase())]);
  const origins = new Set(opts.extraOrigins);
  if (opts.publicUrl) {
    const url = new URL(opts.publicUrl);
    hosts.add(url.hostname.toLowerCase().replace(/^\[|\]$/g, ''));
    origins.add(url.origin);
  }
  return { hosts, origins };
}

/** "example.com:8765" or "[::1]:8765" → host name without port and brackets. */
export function hostName(hostHeader: string): string | null {
  try {
    return new URL(`http://${hostHeader}`).hostname.toLowerCase().replace(/^\[|\]$/g, '');
  } catch {
    return null;
  }
}

export function isHostAllowed(req: IncomingMessage, policy: OriginPolicy): boolean {
  const host = req.headers.host;
  if (!host) return true; // HTTP/1.0 clients without Host cannot be a rebinding browser
  const name = hostName(host);
  return name !== null && policy.hosts.has(name);
}

export function isOriginAllowed(origin: string, policy: OriginPolicy): boolean {
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (policy.origins.has(parsed.origin)) return true;
  return (parsed.protocol === 'http:' || parsed.protocol === 'https:') && policy.hosts.has(parsed.hostname.toLowerCase().replace(/^\[|\]$/g, ''));
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
    return isOriginAllowed(origin, policy) ? null : `Origin ${origin} is not allowed to use this server.`;
  }
  if (origin === 'null') return 'Requests from an opaque origin are not allowed.';
  if (site === 'cross-site' || site === 'same-site') return 'Cross-site requests are not allowed.';
  return null;
}
