import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink } from '@trpc/client';
import type { AppRouter } from '@chorus/api';
import { sessionEnded, sessionMaybeLost } from './sessionSignals.ts';

/** Reconnect delay: 500 ms, 1 s, 2 s, … capped at 30 s. */
export function reconnectDelayMs(attemptIndex: number): number {
  return Math.min(30_000, 500 * 2 ** attemptIndex);
}

/** The server closes a socket with this code when its sign-in ends (revoked, deactivated, expired). */
export const SESSION_ENDED_CLOSE_CODE = 4401;
/** The server closes a socket with this code when the person's role changed: still signed in, so reconnect (wsLink does) and re-read the role. */
export const ROLE_CHANGED_CLOSE_CODE = 4403;
/** No close frame: the connection dropped, or the upgrade was refused (401 once the session is gone). */
const ABNORMAL_CLOSE_CODE = 1006;

/** ws(s)://<this host>/trpc: same origin as the page, so the dev proxy and production both work. */
function webSocketUrl(): string {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${window.location.host}/trpc`;
}

/**
 * One WebSocket for every subscription; its `connectionState` drives the "Reconnecting…"
 * banner. Lazy: the upgrade needs the session cookie, so nothing is opened until a signed-in
 * page subscribes, and it closes a while after the last subscription ends. Sign-in and
 * sign-out close it (auth/session.ts), so the next subscription connects with the new cookie.
 */
export const wsClient = createWSClient({
  url: webSocketUrl,
  retryDelayMs: reconnectDelayMs,
  lazy: { enabled: true, closeMs: 10_000 },
  keepAlive: { enabled: true, intervalMs: 30_000, pongTimeoutMs: 5_000 },
  onClose: (cause) => {
    if (cause?.code === SESSION_ENDED_CLOSE_CODE) sessionEnded.emit();
    // Not a sign-out: auth.status is read again (new role, new menu) while wsLink resubscribes under the new role.
    else if (cause?.code === ROLE_CHANGED_CLOSE_CODE) sessionMaybeLost.emit();
    // A refused upgrade looks like any dropped socket: ask whether we are still signed in.
    else if (cause?.code === ABNORMAL_CLOSE_CODE) sessionMaybeLost.emit();
  },
});

/** Subscriptions go over the WebSocket; queries and mutations (sign-in included: it sets the cookie) over HTTP. */
export const trpcClient = createTRPCClient<AppRouter>({
  links: [
    splitLink({
      condition: (op) => op.type === 'subscription',
      true: wsLink<AppRouter>({ client: wsClient }),
      // The server takes at most 20 calls per batch (CHORUS_MAX_BATCH_CALLS).
      false: httpBatchLink({ url: '/trpc', maxItems: 20 }),
    }),
  ],
});
