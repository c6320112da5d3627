import type { RawData, WebSocket } from 'ws';
import { z } from 'zod';
import { tooManyCallsMessage, trpcErrorBody } from '../http/request-router.ts';
import type { Logger } from '../logger.ts';
import type { OutgoingFrames } from './send-backpressure.ts';
import { TokenBucket } from './token-bucket.ts';

/** Close code for a message with far more calls than any tRPC client sends (policy violation). */
export const TOO_MANY_CALLS_CLOSE = 1008;

export interface CallLimits {
  /** Most calls in one message (a JSON array); the same limit as an HTTP batch. */
  maxCallsPerMessage: number;
  /** Most live subscriptions on one socket. */
  maxSubscriptions: number;
  /** Most queries and mutations on one socket that have not been answered yet. */
  maxInFlight: number;
  /** Calls (queries, mutations, subscriptions) one socket may start per second, on average… */
  callsPerSecond: number;
  /** …and at once after a quiet spell. */
  callBurst: number;
}

const kib = (bytes: number): string => `${Math.round(bytes / 1024)} KiB`;
/** Why a call is refused on a socket whose client has not read what it was sent. */
const unreadMessage = (outgoing: OutgoingFrames): string =>
  `Not run: ${kib(outgoing.unreadBytes)} sent on this WebSocket is still unread; read the frames you were sent before asking for more.`;

// The same checks tRPC's parseTRPCMessage makes: a message passing these is one tRPC runs (or answers by id).
const requestId = z.union([z.string(), z.number(), z.null()]);
const jsonrpc = z.literal('2.0').optional();
const callMessage = z.union([
  z.object({ id: requestId, jsonrpc, method: z.literal('subscription.stop') }),
  z.object({ id: requestId, jsonrpc, method: z.enum(['query', 'mutation', 'subscription']), params: z.object({ path: z.string(), lastEventId: z.string().optional() }) }),
]);
type CallMessage = z.infer<typeof callMessage>;
/** A call that runs a procedure (not a subscription.stop). */
type ProcedureCall = Extract<CallMessage, { params: unknown }>;

/** The head of every reply tRPC sends ({"id":…,"jsonrpc"?,"error" | "result":{"type":…}}), read without parsing a large body. */
const REPLY_HEAD = /^\{"id":(null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|"(?:[^"\\]|\\.)*")(?:,"jsonrpc":"2\.0")?,"(?:(error)"|result":\{"type":"(\w+)")/;

/** The request id a reply answers (as JSON) and whether it is an error or which result type; null for other frames. */
function replyHead(frame: string): { id: string; kind: string } | null {
  const m = REPLY_HEAD.exec(frame);
  if (m) return { id: m[1]!, kind: m[2] ?? m[3]! };
  // Another key order than tRPC 11 writes: read the whole frame rather than lose track of a call.
  if (!frame.startsWith('{')) return null;
  try {
    const reply = z.object({ id: requestId, error: z.unknown().optional(), result: z.object({ type: z.string() }).optional() }).parse(JSON.parse(frame));
    return { id: JSON.stringify(reply.id), kind: reply.error !== undefined ? 'error' : (reply.result?.type ?? 'data') };
  } catch {
    return null;
  }
}

/**
 * Caps the work one WebSocket can ask for, in front of tRPC's message listener (which runs every
 * call of a message at once, however many): calls per message, live subscriptions, and
 * unanswered queries/mutations. A call over a cap is answered at once with a tRPC error for its
 * id and never reaches tRPC, so the socket keeps working and other clients are not slowed. Calls
 * are counted from the messages in and released by tRPC's replies out (a query's answer, a
 * subscription's error or "stopped"). Calls beyond `callsPerSecond` (bursts of `callBurst`), and
 * queries and mutations sent while the socket's client has not read what it was sent (`outgoing`
 * congested), are refused with TOO_MANY_REQUESTS; so is a query's answer ready while it is congested (a query may
 * be asked again; a mutation's answer always waits its turn), so a client that does not read
 * cannot make the server hold answers for it.
 * Call after tRPC has attached to the socket; `expectsParams`: its first message is connectionParams.
 */
export function limitCalls(ws: WebSocket, limits: CallLimits, expectsParams: boolean, outgoing: OutgoingFrames, logger: Logger): void {
  const limiter = new CallLimiter(ws, limits, expectsParams, outgoing, logger);
  // Three small closures over `limiter` (one context); the work is in CallLimiter's shared methods.
  ws.send = (data: unknown, ...rest: unknown[]): void => limiter.send(data, rest);
  ws.on('message', (data: RawData, isBinary: boolean) => limiter.receive(data, isBinary));
  // `on`, not `once`: close fires once anyway, and `once` allocates a wrapper and its state per socket.
  ws.on('close', () => limiter.clear());
}

/** One socket's call bookkeeping: fields only, methods on the prototype (10,000 idle sockets share one copy of the code). */
class CallLimiter {
  private readonly trpcListeners: Array<(...args: unknown[]) => void>;
  /** ws.send as it was before (the send guard's), called with the socket as `this`. */
  private readonly socketSend: (...args: unknown[]) => void;
  /** Queries and mutations only (subscriptions are in `subscriptions`); made on the first one. */
  private inFlight: Map<string, ProcedureCall> | null = null;
  private readonly subscriptions = new Set<string>();
  private readonly rate: TokenBucket;
  private awaitingParams: boolean;
  private warned = false;

  constructor(
    private readonly ws: WebSocket,
    private readonly limits: CallLimits,
    expectsParams: boolean,
    private readonly outgoing: OutgoingFrames,
    private readonly logger: Logger,
  ) {
    this.trpcListeners = ws.listeners('message') as Array<(...args: unknown[]) => void>;
    ws.removeAllListeners('message');
    this.socketSend = ws.send as (...args: unknown[]) => void;
    this.rate = new TokenBucket(limits.callsPerSecond, limits.callBurst);
    this.awaitingParams = expectsParams;
  }

  /** A frame tRPC sends: answers release their call; a query's answer ready while the client does not read is refused instead. */
  send(data: unknown, rest: unknown[]): void {
    if (typeof data === 'string') {
      const head = replyHead(data);
      const call = head ? this.inFlight?.get(head.id) : undefined;
      if (head && call) {
        this.inFlight!.delete(head.id);
        if (call.method === 'query' && head.kind === 'data' && this.outgoing.congested) {
          this.warnOnce('query answers while the client was not reading');
          return this.refuse(call, 'TOO_MANY_REQUESTS', unreadMessage(this.outgoing));
        }
      } else if (head && (head.kind === 'error' || head.kind === 'stopped')) this.subscriptions.delete(head.id);
    }
    Reflect.apply(this.socketSend, this.ws, [data, ...rest]);
  }

  receive(data: RawData, isBinary: boolean): void {
    const verdict = this.admit(data, isBinary);
    if (verdict === 'none') return;
    const payload = verdict === 'all' ? data : Buffer.from(JSON.stringify(verdict));
    for (const listener of this.trpcListeners) Reflect.apply(listener, this.ws, [payload, isBinary]);
  }

  clear(): void {
    this.inFlight = null;
    this.subscriptions.clear();
  }

  private refuse(call: ProcedureCall, code: 'BAD_REQUEST' | 'TOO_MANY_REQUESTS', message: string): void {
    if (call.id === null) return;
    Reflect.apply(this.socketSend, this.ws, [JSON.stringify(trpcErrorBody(code, message, { id: call.id, jsonrpc: call.jsonrpc, type: call.method, path: call.params.path }))]);
  }

  private warnOnce(what: string): void {
    if (this.warned) return;
    this.warned = true;
    this.logger.warn({ limits: this.limits }, `refused WebSocket calls: ${what}`);
  }

  /** The calls of a message tRPC may run: 'all', none, or the admitted ones (as sent) to re-encode. */
  private admit(data: RawData, isBinary: boolean): 'all' | 'none' | unknown[] {
    const { limits, outgoing, subscriptions } = this;
    if (isBinary) return 'all'; // tRPC answers binary frames with an error and runs nothing
    const text = data.toString();
    if (text === 'PING' || text === 'PONG') return 'all';
    if (this.awaitingParams) {
      // tRPC reads the first message of a ?connectionParams=1 socket as the credential, never as calls.
      this.awaitingParams = false;
      return 'all';
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return 'all'; // tRPC answers PARSE_ERROR and runs nothing
    }
    const items: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
    if (items.length > limits.maxCallsPerMessage) {
      const message = tooManyCallsMessage(limits.maxCallsPerMessage, items.length, 'WebSocket message');
      // No tRPC client has more calls pending than a socket allows: a longer message is not worth one reply per call.
      if (items.length > limits.maxSubscriptions + limits.maxInFlight) {
        this.warnOnce(`a message with ${items.length} calls; socket closed`);
        this.ws.close(TOO_MANY_CALLS_CLOSE, message);
        return 'none';
      }
      this.warnOnce(`a message with ${items.length} calls`);
      for (const item of items) {
        const call = callMessage.safeParse(item);
        if (call.success && call.data.method !== 'subscription.stop') this.refuse(call.data, 'BAD_REQUEST', message);
      }
      return 'none';
    }
    const calls: Array<{ call: CallMessage; raw: unknown }> = [];
    for (const raw of items) {
      const call = callMessage.safeParse(raw);
      if (!call.success) return 'all'; // tRPC refuses the whole message with PARSE_ERROR and runs none of it
      calls.push({ call: call.data, raw });
    }
    // The items as sent (zod's output drops params.input), so tRPC gets exactly what the client wrote.
    const admitted: unknown[] = [];
    for (const { call, raw } of calls) {
      // Stops end subscriptions; a null id is answered with PARSE_ERROR and not run.
      if (call.method === 'subscription.stop' || call.id === null) {
        admitted.push(raw);
        continue;
      }
      const key = JSON.stringify(call.id);
      const inFlightCount = this.inFlight?.size ?? 0;
      if (!this.rate.take()) {
        this.warnOnce(`more than ${limits.callsPerSecond} calls per second`);
        this.refuse(call, 'TOO_MANY_REQUESTS', `At most ${limits.callsPerSecond} calls per second per WebSocket (bursts of ${limits.callBurst}); wait a moment before sending more.`);
      } else if (call.method !== 'subscription' && outgoing.congested) {
        // Subscriptions are let through: their number is capped and what they send is what the queue coalesces and bounds.
        this.warnOnce('calls while the client was not reading');
        this.refuse(call, 'TOO_MANY_REQUESTS', unreadMessage(outgoing));
      } else if (this.inFlight?.has(key) || subscriptions.has(key)) {
        this.refuse(call, 'BAD_REQUEST', `Request id ${key} is already in use on this WebSocket; give every call its own id.`);
      } else if (call.method === 'subscription' && subscriptions.size >= limits.maxSubscriptions) {
        this.warnOnce(`more than ${limits.maxSubscriptions} subscriptions`);
        this.refuse(call, 'TOO_MANY_REQUESTS', `At most ${limits.maxSubscriptions} subscriptions per WebSocket; stop one before starting another.`);
      } else if (call.method !== 'subscription' && inFlightCount >= limits.maxInFlight) {
        this.warnOnce(`more than ${limits.maxInFlight} unanswered calls`);
        this.refuse(call, 'TOO_MANY_REQUESTS', `At most ${limits.maxInFlight} unanswered queries and mutations per WebSocket; wait for an answer before sending more.`);
      } else {
        if (call.method === 'subscription') subscriptions.add(key);
        else (this.inFlight ??= new Map()).set(key, call);
        admitted.push(raw);
      }
    }
    if (admitted.length === calls.length) return 'all';
    return admitted.length === 0 ? 'none' : admitted;
  }
}
