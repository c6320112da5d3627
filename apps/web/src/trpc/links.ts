import { createTRPCClient, createWSClient, httpBatchLink, splitLink, wsLink } from '@trpc/client';
import type { AppRouter } from '@chorus/api';

/** Reconnect delay: 500 ms, 1 s, 2 s, … capped at 30 s. */
export function reconnectDelayMs(attemptIndex: number): number {
  return Math.min(30_000, 500 * 2 ** attemptIndex);
}

/** ws(s)://<this host>/trpc: same origin as the page, so the dev proxy and production both work. */
function webSocketUrl(): string {
  const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${window.location.host}/trpc`;
}

/** One WebSocket for every subscription; its `connectionState` drives the "Reconnecting…" banner. */
export const wsClient = createWSClient({
  url: webSocketUrl,
  retryDelayMs: reconnectDelayMs,
  keepAlive: { enabled: true, intervalMs: 30_000, pongTimeoutMs: 5_000 },
});

/** Subscriptions go over the WebSocket; queries and mutations are batched over HTTP. */
export const trpcClient = createTRPCClient<AppRouter>({
  links: [
    splitLink({
      condition: (op) => op.type === 'subscription',
      true: wsLink<AppRouter>({ client: wsClient }),
      false: httpBatchLink({ url: '/trpc' }),
    }),
  ],
});
