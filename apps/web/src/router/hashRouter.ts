import { useSyncExternalStore } from 'react';

/** Every page of the app, as parsed from `location.hash`. */
export type Route =
  | { page: 'new' }
  | { page: 'job'; id: string }
  | { page: 'history' }
  | { page: 'login'; next: string | null }
  | { page: 'setup'; token: string | null }
  | { page: 'invite'; token: string | null }
  | { page: 'account' }
  | { page: 'members' }
  | { page: 'failures' }
  | { page: 'audit' }
  | { page: 'workers' }
  | { page: 'notFound'; path: string };

/** Pages anyone may open without signing in. */
export const PUBLIC_PAGES: ReadonlySet<Route['page']> = new Set(['login', 'setup', 'invite']);

/** A hash path the app may return to after sign-in: ours, not another site's. */
export function safeReturnPath(next: string | null | undefined): string | null {
  if (!next || !next.startsWith('/') || next.startsWith('//')) return null;
  const page = parseHash(`#${next}`).page;
  return PUBLIC_PAGES.has(page) ? null : next;
}

export function parseHash(hash: string): Route {
  const full = hash.replace(/^#/, '') || '/';
  const q = full.indexOf('?');
  const path = q === -1 ? full : full.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : full.slice(q + 1));
  if (path === '/' || path === '/new') return { page: 'new' };
  if (path === '/history') return { page: 'history' };
  if (path === '/login') return { page: 'login', next: query.get('next') };
  if (path === '/setup') return { page: 'setup', token: query.get('token') };
  if (path === '/invite') return { page: 'invite', token: query.get('token') };
  if (path === '/account') return { page: 'account' };
  if (path === '/members') return { page: 'members' };
  if (path === '/failures') return { page: 'failures' };
  if (path === '/audit') return { page: 'audit' };
  if (path === '/workers') return { page: 'workers' };
  const job = /^\/jobs\/([^/?#]+)$/.exec(path);
  if (job?.[1]) return { page: 'job', id: decodeURIComponent(job[1]) };
  return { page: 'notFound', path };
}

export const hrefs = {
  newJob: (): string => '#/',
  job: (id: string): string => `#/jobs/${encodeURIComponent(id)}`,
  history: (): string => '#/history',
  login: (next?: string | null): string => (next ? `#/login?next=${encodeURIComponent(next)}` : '#/login'),
  account: (): string => '#/account',
  members: (): string => '#/members',
  failures: (): string => '#/failures',
  audit: (): string => '#/audit',
  workers: (): string => '#/workers',
};

/** The current hash without its "#", e.g. "/jobs/job_…" (what "return after sign-in" keeps). */
export function currentHashPath(): string {
  return window.location.hash.replace(/^#/, '') || '/';
}

export function navigate(href: string): void {
  if (window.location.hash !== href) window.location.hash = href;
}

/** Like navigate, without a history entry (redirects: Back does not bounce into them again). */
export function replaceRoute(href: string): void {
  if (window.location.hash === href) return;
  const url = new URL(window.location.href);
  url.hash = href;
  window.location.replace(url.toString());
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  return () => window.removeEventListener('hashchange', onChange);
}

const getHash = (): string => window.location.hash;

/** The current route; re-renders on every hash change. */
export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, getHash, getHash);
  return parseHash(hash);
}
