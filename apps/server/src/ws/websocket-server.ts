import type http from 'node:http';
import { appRouter, type ApiContext } from '@chorus/api';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { WebSocketServer } from 'ws';
import { requestPath } from '../http/request-router.ts';
import type { Logger } from '../logger.ts';
import { isOriginAllowed } from './origin-check.ts';

export interface WebSocketOptions {
  createContext: () => ApiContext;
  allowedOrigins: readonly string[];
  logger: Logger;
}

/** tRPC over WebSocket on the HTTP server's port: upgrades at /trpc, Origin-checked. */
export function attachWebSockets(server: http.Server, options: WebSocketOptions): { close(): void } {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const handler = applyWSSHandler({
    wss,
    router: appRouter,
    createContext: options.createContext,
    // Server pings every 30 s and drops a peer that does not pong: proxies keep idle sockets open.
    keepAlive: { enabled: true, pingMs: 30_000, pongWaitMs: 5_000 },
  });

  server.on('upgrade', (req, socket, head) => {
    const pathname = requestPath(req.url);
    if (pathname === null) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      return;
    }
    if (pathname !== '/trpc') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    if (!isOriginAllowed(req, options.allowedOrigins)) {
      options.logger.warn({ origin: req.headers.origin }, 'refused WebSocket from a foreign origin');
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\nOrigin not allowed.\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  return {
    close() {
      // Clients' wsLink reconnects (to this server after a restart, or another instance).
      handler.broadcastReconnectNotification();
      for (const client of wss.clients) client.close(1012, 'server restarting');
      wss.close();
    },
  };
}
