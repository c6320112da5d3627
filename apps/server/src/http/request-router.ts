import type { IncomingMessage, ServerResponse } from 'node:http';
import { appRouter } from '@chorus/api';
import { crossSiteReason, isHostAllowed, type OriginPolicy } from '../auth/request-origin.ts';
import type { Logger } from '../logger.ts';
import { sendError, sendJson } from './respond.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

export interface HttpRoutes {
  trpc: Handler;
  upload: Handler;
  jobAudio: (req: IncomingMessage, res: ServerResponse, jobId: string) => Promise<void>;
  health: () => Promise<Record<string, unknown>>;
  web: Handler;
}

const AUDIO_PATH = /^\/api\/jobs\/([^/]+)\/audio$/;

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

/** The subscription a /trpc/… request names (the same path tRPC would resolve, batches included), or null. */
export function subscriptionIn(pathname: string): string | null {
  const procedures = safeDecode(pathname.slice('/trpc/'.length));
  return procedures?.split(',').find((p) => SUBSCRIPTION_PATHS.has(p)) ?? null;
}

/**
 * One small dispatcher: tRPC, the two binary endpoints, health, then the web app. Before any
 * of them: the Host must be one of this server's names (DNS rebinding), and a state-changing
 * request that could ride on the session cookie must come from an allowed origin (CSRF).
 */
export function createRequestHandler(routes: HttpRoutes, originPolicy: OriginPolicy, logger: Logger) {
  return (req: IncomingMessage, res: ServerResponse): void => {
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
    const run = async (): Promise<void> => {
      if (pathname.startsWith('/trpc/')) {
        const subscription = subscriptionIn(pathname);
        if (subscription) return sendError(res, 405, 'METHOD_NOT_ALLOWED', `${subscription} is a subscription: subscribe over the WebSocket at /trpc (tRPC's wsLink), not over HTTP.`);
      }
      if (pathname === '/trpc' || pathname.startsWith('/trpc/')) return routes.trpc(req, res);
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
