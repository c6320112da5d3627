import type http from 'node:http';
import { appRouter, createApiContext, type ApiServices, type Credential, type RequestMeta } from '@chorus/api';
import { TRPCError } from '@trpc/server';
import { applyWSSHandler } from '@trpc/server/adapters/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { clearedShadowedSessionCookies } from '../auth/cookies.ts';
import { clientAddress, credentialFromRequest, settleSessionCookies, TWO_SESSION_COOKIES_MESSAGE } from '../auth/request-identity.ts';
import { isHostAllowed, isOriginAllowed, isWellFormedHost, MALFORMED_HOST_MESSAGE, type OriginPolicy } from '../auth/request-origin.ts';
import { requestPath } from '../http/request-router.ts';
import type { Logger } from '../logger.ts';
import type { TrpcErrorLogger } from '../trpc-error-log.ts';
import { keepAlive } from './keep-alive.ts';
import { guardSends, type SendLimits } from './send-backpressure.ts';
import { SocketGuard } from './socket-guard.ts';
import { limitCalls, type CallLimits } from './socket-limits.ts';

export interface WebSocketOptions {
  services: ApiServices;
  originPolicy: OriginPolicy;
  trustProxy: boolean;
  /** How often live sockets' sign-ins are re-checked. */
  authRecheckMs: number;
  /** How long a socket that announced connectionParams may stay open without a working credential. */
  authTimeoutMs: number;
  /** Whether this request's session cookie is the Secure __Host- one. */
  secureCookie: (req: http.IncomingMessage) => boolean;
  /** Per-socket caps on calls per message, subscriptions, unanswered calls and calls per second. */
  callLimits: CallLimits;
  /** Per-socket bounds on what its client has not read: queue and coalesce above soft, close above hard. */
  sendLimits: SendLimits;
  /** Most sockets per client address that announced connectionParams and have not signed in yet. */
  maxPendingPerAddress: number;
  logger: Logger;
  onError: TrpcErrorLogger;
}

/** Close code for "no credential arrived in time" (like HTTP 408). */
export const SIGN_IN_TIMEOUT_CLOSE = 4408;

const refuse = (socket: { end(s: string): void }, status: string, body: string, setCookies: string[] = []): void =>
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n${setCookies.map((c) => `Set-Cookie: ${c}\r\n`).join('')}\r\n${body}\n`);

/** Sockets per client address that announced connectionParams and have not signed in yet, with their sign-in deadline. */
class PendingSockets {
  private readonly byAddress = new Map<string, Set<WebSocket>>();
  private readonly waiting = new Map<WebSocket, { address: string; deadline: NodeJS.Timeout; onClose: () => void }>();

  count(address: string): number {
    return this.byAddress.get(address)?.size ?? 0;
  }

  add(ws: WebSocket, address: string, deadline: NodeJS.Timeout): void {
    const set = this.byAddress.get(address) ?? new Set<WebSocket>();
    set.add(ws);
    this.byAddress.set(address, set);
    const onClose = (): void => this.remove(ws);
    this.waiting.set(ws, { address, deadline, onClose });
    ws.on('close', onClose);
  }

  /** Signed in or closed: no longer waiting (the deadline timer goes too, so a signed-in socket holds none). */
  remove(ws: WebSocket): void {
    const entry = this.waiting.get(ws);
    if (entry === undefined) return;
    this.waiting.delete(ws);
    clearTimeout(entry.deadline);
    // Signed in: the socket keeps neither the deadline nor this listener for the rest of its life.
    ws.off('close', entry.onClose);
    const set = this.byAddress.get(entry.address);
    set?.delete(ws);
    if (set?.size === 0) this.byAddress.delete(entry.address);
  }
}

/** What createContext needs from the upgrade request, taken at the handshake so the request itself is not kept. */
interface Handshake {
  /** The cookie or Authorization credential of the upgrade request, if any. */
  credential: Credential | null;
  meta: RequestMeta;
}

// Shared by every slim request: what createURL reads of the socket.
const PLAIN_SOCKET = Object.freeze({ encrypted: false });
const TLS_SOCKET = Object.freeze({ encrypted: true });
/**
 * The request tRPC's adapter gets instead of the IncomingMessage: it keeps it for the socket's
 * whole life (for onError, which ignores it here) but only reads url, host and TLS from it.
 * Handing it the real one would keep every socket's request, headers and raw headers alive.
 */
function slimRequest(req: http.IncomingMessage): http.IncomingMessage {
  const tls = (req.socket as { encrypted?: boolean }).encrypted === true;
  const slim = { url: req.url, headers: { host: req.headers.host }, socket: tls ? TLS_SOCKET : PLAIN_SOCKET };
  // A structural subset of IncomingMessage: tRPC's createURL reads exactly these fields.
  return slim as unknown as http.IncomingMessage;
}

/** A token sent by a script in tRPC's connectionParams ({ token: "chorus_pat_…" }). */
function tokenFromParams(params: Partial<Record<string, string>> | null | undefined): Credential | null {
  const token = params?.token ?? params?.authorization?.replace(/^Bearer\s+/i, '');
  return typeof token === 'string' ? { kind: 'token', token } : null;
}

/**
 * tRPC over WebSocket on the HTTP server's port, at /trpc. The upgrade is refused unless the
 * Host and Origin are this server's (cross-site hijacking, DNS rebinding) and the request
 * carries a working session cookie, or announces connectionParams (a script's token).
 */
export function attachWebSockets(server: http.Server, options: WebSocketOptions): { close(): void } {
  const { services, logger } = options;
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 * 1024 });
  const guard = new SocketGuard(services.auth, options.authRecheckMs, logger);
  const pending = new PendingSockets();
  // Until the socket's context is made (dropped then; a WeakMap, so a socket that never signs in does not leak it).
  const handshakes = new WeakMap<WebSocket, Handshake>();
  const handler = applyWSSHandler({
    wss,
    router: appRouter,
    // Once per connection; procedures re-resolve the credential on every call.
    createContext: async ({ res, info }) => {
      const ws = res as WebSocket;
      const handshake = handshakes.get(ws);
      if (!handshake) throw new TRPCError({ code: 'INTERNAL_SERVER_ERROR', message: 'WebSocket without a recorded handshake.' });
      const credential = tokenFromParams(info.connectionParams) ?? handshake.credential;
      const identity = credential && (await services.auth.isSetUp()) ? await services.auth.resolve(credential) : null;
      if (!identity) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in first: the WebSocket needs a session cookie or an API token in connectionParams.' });
      guard.track(ws, identity);
      pending.remove(ws);
      handshakes.delete(ws);
      return createApiContext(services, handshake.meta, credential, null);
    },
    onError: options.onError,
    // Off: keepAlive() below does it, counting a peer that still reads as alive (its PONG may wait behind frames).
    keepAlive: { enabled: false },
  });

  /** The deadline of a socket waiting for connectionParams (PendingSockets clears it at sign-in or close). */
  const signInDeadline = (ws: WebSocket): NodeJS.Timeout => {
    const timer = setTimeout(() => {
      if (guard.isTracked(ws) || ws.readyState !== ws.OPEN) return;
      logger.info('closing a WebSocket that sent no working credential in time');
      ws.close(SIGN_IN_TIMEOUT_CLOSE, `No sign-in within ${options.authTimeoutMs < 1000 ? `${options.authTimeoutMs} ms` : `${options.authTimeoutMs / 1000} s`}: send { token } in connectionParams first.`);
    }, options.authTimeoutMs);
    timer.unref();
    return timer;
  };

  server.on('upgrade', (req, socket, head) => {
    void (async () => {
      if (!isWellFormedHost(req.headers.host)) return refuse(socket, '400 Bad Request', MALFORMED_HOST_MESSAGE);
      const pathname = requestPath(req.url);
      if (pathname === null) return refuse(socket, '400 Bad Request', 'Malformed request target.');
      if (pathname !== '/trpc') return refuse(socket, '404 Not Found', 'WebSockets are served at /trpc only.');
      if (!isHostAllowed(req, options.originPolicy)) {
        logger.warn({ host: req.headers.host }, 'refused WebSocket for a host name this server does not use');
        return refuse(socket, '421 Misdirected Request', 'This server does not answer to that host name.');
      }
      const origin = req.headers.origin;
      if (origin !== undefined && !isOriginAllowed(origin, req, options.originPolicy)) {
        logger.warn({ origin, host: req.headers.host }, 'refused WebSocket from a foreign origin');
        return refuse(socket, '403 Forbidden', `Origin ${origin} is not allowed: open Chorus from its own address, or add the origin to CHORUS_ALLOWED_ORIGINS.`);
      }
      // The same rule as HTTP (another app on this host can plant a second cookie); tRPC's createContext reads this req later.
      const secure = options.secureCookie(req);
      if (settleSessionCookies(req, secure) === 'conflict') {
        logger.warn({ host: req.headers.host }, 'refused a WebSocket with two session cookies');
        return refuse(socket, '401 Unauthorized', TWO_SESSION_COOKIES_MESSAGE, clearedShadowedSessionCookies(pathname, secure));
      }
      const expectsParams = new URL(req.url ?? '/', 'http://x').searchParams.get('connectionParams') === '1';
      const address = clientAddress(req, options.trustProxy) ?? 'unknown';
      if (expectsParams && pending.count(address) >= options.maxPendingPerAddress) {
        logger.warn({ address, limit: options.maxPendingPerAddress }, 'refused a WebSocket: too many from this address waiting to sign in');
        return refuse(
          socket,
          '429 Too Many Requests',
          `Too many WebSockets from your address are waiting to sign in (at most ${options.maxPendingPerAddress}): send { token } in connectionParams on the open ones, or close them.`,
        );
      }
      const credential = credentialFromRequest(req);
      if (!expectsParams) {
        const identity = credential && (await services.auth.isSetUp()) ? await services.auth.resolve(credential) : null;
        if (!identity) return refuse(socket, '401 Unauthorized', 'Sign in first: the WebSocket needs a session cookie or an API token.');
      }
      const handshake: Handshake = { credential, meta: { transport: 'ws', ip: clientAddress(req, options.trustProxy), userAgent: req.headers['user-agent'] ?? null } };
      wss.handleUpgrade(req, socket, head, (ws) => {
        // Unauthenticated sockets waiting for connectionParams must not pile up.
        if (expectsParams) pending.add(ws, address, signInDeadline(ws));
        handshakes.set(ws, handshake);
        wss.emit('connection', ws, slimRequest(req));
        // After tRPC attached its message listener, so the caps sit in front of it; every frame out takes its turn in `outgoing`.
        const outgoing = guardSends(ws, options.sendLimits, logger);
        limitCalls(ws, options.callLimits, expectsParams, outgoing, logger);
        // Server pings after 30 s of silence and drops a peer that neither answers nor reads: proxies keep idle sockets open.
        keepAlive(ws, outgoing, { pingMs: 30_000, pongWaitMs: 5_000 });
      });
    })().catch((err: unknown) => {
      logger.error({ err }, 'WebSocket upgrade failed');
      refuse(socket, '500 Internal Server Error', 'Internal error; see the server log.');
    });
  });

  return {
    close() {
      guard.close();
      // Clients' wsLink reconnects (to this server after a restart, or another instance).
      handler.broadcastReconnectNotification();
      for (const client of wss.clients) client.close(1012, 'server restarting');
      wss.close();
    },
  };
}
