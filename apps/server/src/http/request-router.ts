import type { IncomingMessage, ServerResponse } from 'node:http';
import { appRouter } from '@chorus/api';
import { getTRPCErrorShape, TRPCError, transformTRPCResponse, type TRPC_ERROR_CODE_KEY } from '@trpc/server';
import { clearedShadowedSessionCookies } from '../auth/cookies.ts';
import { settleSessionCookies, TWO_SESSION_COOKIES_MESSAGE } from '../auth/request-identity.ts';
import { crossSiteReason, isHostAllowed, isWellFormedHost, MALFORMED_HOST_MESSAGE, type OriginPolicy } from '../auth/request-origin.ts';
import type { Logger } from '../logger.ts';
import { sendError, sendJson } from './respond.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export interface HttpRoutes {
  trpc: Handler;
  upload: Handler;
  jobAudio: (req: IncomingMessage, res: ServerResponse, jobId: string) => Promise<void>;
  /** Standalone workers' files: a job's prompt (GET) and its output (PUT). */
  workerFiles: Record<'prompt' | 'output', (req: IncomingMessage, res: ServerResponse, jobId: string) => Promise<void>>;
  health: () => Promise<Record<string, unknown>>;
  web: Handler;
}

export interface RequestLimits {
  /** Whether this request's session cookie is the Secure __Host- one (https, or forced). */
  secureCookie: (req: IncomingMessage) => boolean;
  /** Most calls in one tRPC batch (HTTP) or WebSocket message. */
  maxBatchCalls: number;
}

/**
 * tRPC's own error body (what it answers a bad batch with over HTTP, or one call over a WebSocket
 * when `call` names its id), so tRPC clients read the code and message as usual.
 */
export function trpcErrorBody(code: TRPC_ERROR_CODE_KEY, message: string, call?: { id: string | number; jsonrpc?: '2.0'; type: 'query' | 'mutation' | 'subscription'; path: string }) {
  const config = appRouter._def._config;
  const error = getTRPCErrorShape({ config, error: new TRPCError({ code, message }), type: call?.type ?? 'unknown', path: call?.path, input: undefined, ctx: undefined });
  return transformTRPCResponse(config, call ? { id: call.id, ...(call.jsonrpc ? { jsonrpc: call.jsonrpc } : {}), error } : { error });
}

export const tooManyCallsMessage = (max: number, count: number, where: string): string => `At most ${max} calls per ${where}; this one has ${count}.`;

const AUDIO_PATH = /^\/api\/jobs\/([^/]+)\/audio$/;
const WORKER_FILE_PATH = /^\/api\/worker\/jobs\/([^/]+)\/(prompt|output)$/;

/** The path of a request target, or null when it cannot be parsed (never throw in a listener). */
export function requestPath(url: string | undefined): string | null {
  try {
    return new URL(url ?? '/', 'http://x').pathname;
  } catch {
    return null;
  }
}

export function safeDecode(component: string): string | null {
  try {
    return decodeURIComponent(component);
  } catch {
    return null;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Subscriptions live on the WebSocket, whose sockets are re-checked on revocation; an HTTP event stream would not be. */
const SUBSCRIPTION_PATHS = new Set(
  // At run time _def.procedures is flat ("job.onChange" → procedure); its static type is the nested router.
  Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>)
    .filter(([, procedure]) => procedure._def.type === 'subscription')
    .map(([path]) => path),
);

/** How many calls a /trpc/… request makes: tRPC splits the path on commas when ?batch=1. */
export function batchCallCount(pathname: string, url: string | undefined): number {
  const batch = new URL(url ?? '/', 'http://x').searchParams.get('batch') === '1';
  return batch ? (safeDecode(pathname.slice('/trpc/'.length)) ?? '').split(',').length : 1;
}

/** The subscription a /trpc/… request names (the same path tRPC would resolve, batches included), or null. */
export function subscriptionIn(pathname: string): string | null {
  const procedures = safeDecode(pathname.slice('/trpc/'.length));
  return procedures?.split(',').find((p) => SUBSCRIPTION_PATHS.has(p)) ?? null;
}

/**
 * One small dispatcher: tRPC, the two binary endpoints, health, then the web app. Before any
 * of them: the Host must be one of this server's names (DNS rebinding), and a state-changing
 * request that could ride on the session cookie must come from an allowed origin (CSRF), and
 * a request may carry one session cookie at most (one planted by another app on this host).
 */
export function createRequestHandler(routes: HttpRoutes, originPolicy: OriginPolicy, logger: Logger, limits: RequestLimits) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    // "evil.com@localhost" parses as localhost but cannot build a request URL: refuse the shape first.
    if (!isWellFormedHost(req.headers.host)) return sendError(res, 400, 'BAD_REQUEST', MALFORMED_HOST_MESSAGE);
    const pathname = requestPath(req.url);
    if (pathname === null) return sendError(res, 400, 'BAD_REQUEST', 'The request path is malformed.');
    const method = req.method ?? 'GET';
    if (pathname !== '/healthz' && !isHostAllowed(req, originPolicy)) {
      logger.warn({ host: req.headers.host, path: pathname }, 'refused a request for a host name this server does not use');
      return sendError(res, 421, 'MISDIRECTED', 'This server does not answer to that host name; set CHORUS_PUBLIC_URL or CHORUS_ALLOWED_HOSTS to add one.');
    }
    // A bearer token is never sent by a browser on its own, so only cookie-style requests are checked.
    if (!SAFE_METHODS.has(method) && req.headers.authorization === undefined) {
      const reason = crossSiteReason(req, originPolicy);
      if (reason) {
        logger.warn({ origin: req.headers.origin, site: req.headers['sec-fetch-site'], path: pathname }, 'refused a cross-site request');
        return sendError(res, 403, 'CROSS_SITE', `${reason} Use Chorus from its own page, or send an API token.`);
      }
    }
    const isTrpc = pathname === '/trpc' || pathname.startsWith('/trpc/');
    if (pathname !== '/healthz' && settleSessionCookies(req, limits.secureCookie(req)) === 'conflict') {
      logger.warn({ path: pathname }, 'refused a request with two session cookies');
      res.setHeader('set-cookie', clearedShadowedSessionCookies(pathname, limits.secureCookie(req)));
      if (isTrpc) return sendJson(res, 401, trpcErrorBody('UNAUTHORIZED', TWO_SESSION_COOKIES_MESSAGE));
      return sendError(res, 401, 'UNAUTHORIZED', TWO_SESSION_COOKIES_MESSAGE);
    }
    const run = async (): Promise<void> => {
      if (pathname.startsWith('/trpc/')) {
        const subscription = subscriptionIn(pathname);
        if (subscription) return sendError(res, 405, 'METHOD_NOT_ALLOWED', `${subscription} is a subscription: subscribe over the WebSocket at /trpc (tRPC's wsLink), not over HTTP.`);
        // Every call in a batch runs: refuse a long one before tRPC reads its body.
        const calls = batchCallCount(pathname, req.url);
        if (calls > limits.maxBatchCalls) return sendJson(res, 400, trpcErrorBody('BAD_REQUEST', `${tooManyCallsMessage(limits.maxBatchCalls, calls, 'batch')} Split it (httpBatchLink's maxItems option).`));
      }
      if (isTrpc) return routes.trpc(req, res);
      if (pathname === '/healthz') return sendJson(res, 200, await routes.health());
      if (pathname === '/api/uploads') {
        if (method !== 'POST') return sendError(res, 405, 'METHOD_NOT_ALLOWED', 'Use POST to upload reference audio.');
        return routes.upload(req, res);
      }
      const audio = AUDIO_PATH.exec(pathname);
      if (audio) {
        if (method !== 'GET' && method !== 'HEAD') return sendError(res, 405, 'METHOD_NOT_ALLOWED', 'Use GET to fetch job audio.');
        const jobId = safeDecode(audio[1]!);
        if (jobId === null) return sendError(res, 400, 'BAD_REQUEST', 'The job id in the path is not valid percent-encoding.');
        return routes.jobAudio(req, res, jobId);
      }
      const workerFile = WORKER_FILE_PATH.exec(pathname);
      if (workerFile) {
        const kind = workerFile[2] as 'prompt' | 'output';
        const allowed = kind === 'prompt' ? ['GET'] : ['PUT'];
        if (!allowed.includes(method)) return sendError(res, 405, 'METHOD_NOT_ALLOWED', kind === 'prompt' ? "Use GET to fetch a job's prompt audio." : "Use PUT with the WAV as the body to store a job's output.");
        const jobId = safeDecode(workerFile[1]!);
        if (jobId === null) return sendError(res, 400, 'BAD_REQUEST', 'The job id in the path is not valid percent-encoding.');
        return routes.workerFiles[kind](req, res, jobId);
      }
      if (pathname.startsWith('/api/')) return sendError(res, 404, 'NOT_FOUND', `No API endpoint at ${pathname}.`);
      if (method !== 'GET' && method !== 'HEAD') return sendError(res, 405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here.`);
      return routes.web(req, res);
    };
    run().catch((err: unknown) => {
      logger.error({ err, path: pathname }, 'request failed');
      if (!res.headersSent) sendError(res, 500, 'INTERNAL', 'Internal server error; see the server log.');
      else res.destroy();
    });
  };
}
