import { useSyncExternalStore } from 'react';

/** Every page of the app, as parsed from `location.hash`. */
export type Route =
  | { page: 'new' }
  | { page: 'job'; id: string }
  | { page: 'history' }
  | { page: 'notFound'; path: string };

export function parseHash(hash: string): Route {
  const path = hash.replace(/^#/, '') || '/';
  if (path === '/' || path === '/new') return { page: 'new' };
  if (path === '/history') return { page: 'history' };
  const job = /^\/jobs\/([^/?#]+)$/.exec(path);
  if (job?.[1]) return { page: 'job', id: decodeURIComponent(job[1]) };
  return { page: 'notFound', path };
}

export const hrefs = {
  newJob: (): string => '#/',
  job: (id: string): string => `#/jobs/${encodeURIComponent(id)}`,
  history: (): string => '#/history',
};

export function navigate(href: string): void {
  if (window.location.hash !== href) window.location.hash = href;
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
