import { randomBytes } from 'node:crypto';
import { initTRPC, TRPCError } from '@trpc/server';
import { ZodError } from 'zod';
import type { AuthService, Credential, Identity } from './auth/auth-service.ts';
import type { ApiDeps } from './ports.ts';
import type { AuthUser, Role } from './schemas/auth.ts';
import { authorize } from './auth/authorize.ts';
import { authorizeWorker, type WorkerIdentity } from './auth/worker-auth.ts';
import type { JobEventLog } from './services/job-event-log.ts';
import type { JobEventStreamOptions } from './router/job-events-stream.ts';

/** Process-wide services every request shares (one JobEventLog serialises appends per job). */
export type ApiServices = ApiDeps & {
  events: JobEventLog;
  auth: AuthService;
  /** How job.events streams re-read the log when idle (defaults in router/job-events-stream.ts). */
  eventStream?: JobEventStreamOptions;
};

export interface RequestMeta {
  transport: 'http' | 'ws';
  ip: string | null;
  userAgent: string | null;
}

/** What only an HTTP request can do: set headers (the session cookie, Retry-After). */
export interface HttpResponseControl {
  setSessionCookie(token: string, expiresAt: Date): void;
  clearSessionCookie(): void;
  setHeader(name: string, value: string): void;
}

/** Built per HTTP request and per WebSocket connection (t3-style createContext). */
export type ApiContext = ApiServices & {
  request: RequestMeta;
  /** The credential that came with the request (cookie or bearer token), not yet trusted. */
  credential: Credential | null;
  /** Resolves the credential: once per HTTP request, on every call over a WebSocket. */
  identity(): Promise<Identity | null>;
  http: HttpResponseControl | null;
};

export function createApiContext(
  services: ApiServices,
  request: RequestMeta,
  credential: Credential | null,
  http: HttpResponseControl | null,
): ApiContext {
  let memo: Promise<Identity | null> | null = null;
  // A socket lives for hours: re-check its credential on each call, so revocation is immediate.
  // (Arrows in a conditional, not `const` ones: tsx's keep-names helper gives a named closure a 256-byte property store, per socket.)
  const identity =
    request.transport === 'ws'
      ? () => (credential ? services.auth.resolve(credential) : Promise.resolve(null))
      : () => (memo ??= credential ? services.auth.resolve(credential) : Promise.resolve(null));
  // Field by field, not `...services`: a spread-then-extended literal gets a fresh hidden class per call in V8 (one per socket).
  // The mapped type makes a service added to ApiServices (optional ones too) a compile error here until it is listed.
  const context: { [K in keyof Required<ApiServices>]: ApiServices[K] } & Omit<ApiContext, keyof ApiServices> = {
    db: services.db,
    files: services.files,
    bus: services.bus,
    queue: services.queue,
    engines: services.engines,
    workers: services.workers,
    events: services.events,
    auth: services.auth,
    eventStream: services.eventStream,
    request,
    credential,
    http,
    identity,
  };
  return context;
}

/** "mode: Unknown mode …; text: Text is required." — readable by people and by curl users. */
function describeZodError(error: ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

const refs = new WeakMap<object, string>();
/** The id an internal error is logged and answered with, the same for the log and the reply. */
export function errorRef(error: object): string {
  let ref = refs.get(error);
  if (!ref) {
    ref = `err_${randomBytes(6).toString('hex')}`;
    refs.set(error, ref);
  }
  return ref;
}

// Plain JSON on the wire (no transformer) so curl and non-TypeScript clients can call the API.
const t = initTRPC.context<ApiContext>().create({
  // Subscriptions are served over the WebSocket only: its sockets are re-checked when a sign-in ends, an HTTP event stream would not be.
  sse: { enabled: false },
  errorFormatter({ shape, error }) {
    const zodError = error.cause instanceof ZodError ? error.cause : null;
    const internal = error.code === 'INTERNAL_SERVER_ERROR';
    return {
      ...shape,
      // Internal messages can carry database internals and file paths: they stay in the log.
      message: internal ? `Internal error (ref ${errorRef(error)}); the server log has the details.` : zodError ? describeZodError(zodError) : shape.message,
      data: {
        ...shape.data,
        stack: undefined,
        ref: internal ? errorRef(error) : null,
        zodIssues: zodError ? zodError.issues.map((i) => ({ path: i.path.map(String), message: i.message })) : null,
      },
    };
  },
});

export const createRouter = t.router;
export const createCallerFactory = t.createCallerFactory;

/** Health, setup and sign-in: no session needed. */
export const publicProcedure = t.procedure;

export type AuthedContext = ApiContext & { user: AuthUser; session: Identity };

/** Signed in with at least `min`: 401 without a valid session or token, 403 naming the role needed. */
const requireRole = (min: Role) =>
  t.middleware(async ({ ctx, next }) => {
    const access = await authorize(ctx.auth, ctx.credential, ctx.identity, min);
    if (!access.ok) throw new TRPCError({ code: access.code, message: access.message });
    const identity = access.identity;
    return next({ ctx: { ...ctx, user: identity.user, session: identity } });
  });

/** Reads and listens: history, job pages, audio. */
export const viewerProcedure = t.procedure.use(requireRole('viewer'));
/** Creates and manages their own jobs. */
export const memberProcedure = t.procedure.use(requireRole('member'));
/** Everything: members, invites, tokens, failed-run review, audit. */
export const adminProcedure = t.procedure.use(requireRole('admin'));

export type WorkerContext = ApiContext & { worker: WorkerIdentity };

/** Standalone inference workers only: 401 without a working worker token, 403 for a person's session or token. */
export const workerProcedure = t.procedure.use(async ({ ctx, next }) => {
  const access = await authorizeWorker(ctx.db, ctx.credential);
  if (!access.ok) throw new TRPCError({ code: access.code, message: access.message });
  return next({ ctx: { ...ctx, worker: access.worker } });
});
