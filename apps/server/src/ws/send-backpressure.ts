import { isCoalescible, jobEventSchema } from '@chorus/api';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { Logger } from '../logger.ts';

/** Close code for "your client reads too slowly" (like HTTP 408; 4000–4999 are the application's). */
export const TOO_SLOW_CLOSE = 4008;
/** A closed-for-slowness socket whose peer does not answer the close frame is dropped after this long. */
const CLOSE_GRACE_MS = 5000;

export interface SendLimits {
  /** Above this many bytes buffered in the socket, frames wait in the socket's queue (progress coalesced). */
  softBytes: number;
  /** Above this many bytes queued + buffered, the socket is closed with TOO_SLOW_CLOSE. */
  hardBytes: number;
}

interface Waiting {
  data: string | Buffer;
  bytes: number;
  /** The subscription whose progress this frame is (a newer one replaces it), or null: it is never dropped. */
  progressOf: string | null;
  dropped: boolean;
}

/** Bytes waiting in the queues of all sockets of this process, and sockets closed for reading too slowly (for logs and tests). */
let backlogBytes = 0;
let closedTooSlow = 0;
export const outgoingStats = (): { backlogBytes: number; closedTooSlow: number } => ({ backlogBytes, closedTooSlow });

interface Corkable {
  cork(): void;
  uncork(): void;
}

/** The TCP socket under a ws WebSocket: ws keeps it in a field it does not declare, so it is checked before use. */
function corkableSocket(ws: WebSocket): Corkable | null {
  const socket = (ws as unknown as { _socket?: Partial<Corkable> })._socket;
  return typeof socket?.cork === 'function' && typeof socket.uncork === 'function' ? (socket as Corkable) : null;
}

const mib = (bytes: number): string => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;

// A tracked subscription datum as tRPC writes it: {"id":…,"result":{"type":"data","id":"<seq>","data":{"id":"<seq>","data":<event>}}}.
const trackedDatum = z.object({
  id: z.union([z.string(), z.number()]),
  result: z.object({ type: z.literal('data'), id: z.string(), data: z.object({ data: z.unknown() }) }),
});

/** The subscription (its request id as JSON) a frame is a job progress event of, or null. */
function progressSubscription(frame: string): string | null {
  if (!frame.includes('"progress"')) return null; // most frames: no parse
  try {
    const datum = trackedDatum.safeParse(JSON.parse(frame));
    if (!datum.success) return null;
    const event = jobEventSchema.safeParse(datum.data.result.data.data);
    return event.success && isCoalescible(event.data) ? JSON.stringify(datum.data.id) : null;
  } catch {
    return null;
  }
}

/**
 * One socket's outgoing frames. While the socket has less than `softBytes` buffered, frames
 * go straight out; above it they wait here in order and are written as the socket drains
 * (ws.send's callback: a frame was handed to the kernel). A waiting progress frame of a
 * job.events subscription is dropped when a newer one of the same subscription arrives (the
 * newer one joins the end, so seqs stay increasing); nothing else is ever dropped or merged.
 * Past `hardBytes` queued + buffered (a client that does not read) the queue is freed, the
 * socket stops reading and is closed with TOO_SLOW_CLOSE; the client resumes from its last id.
 */
export class OutgoingFrames {
  private items: Waiting[] = [];
  private head = 0;
  private queuedBytes = 0;
  /** Created with the first progress frame that has to wait (most sockets never have one). */
  private waitingProgress: Map<string, Waiting> | null = null;
  private closing = false;
  /** Frames written in this turn of the event loop. */
  private turnFrames = 0;
  /** Corked at the second frame of a turn, uncorked when the turn ends. */
  private corkedSocket: Corkable | null = null;
  /** Frames written to the socket so far: rising while the peer reads (keep-alive counts it as liveness). */
  written = 0;
  /** ws.send as it was before guardSends replaced it (called with the socket as `this`, so nothing is bound per socket). */
  private readonly socketSend: WebSocket['send'];
  /** ws.send's callback, made on the first frame: an idle socket holds no closure for it. */
  private onWritten: ((err?: Error) => void) | null = null;

  constructor(
    private readonly ws: WebSocket,
    private readonly limits: SendLimits,
    private readonly logger: Logger,
  ) {
    this.socketSend = ws.send;
    // `on`, not `once`: close fires once anyway, and `once` allocates a wrapper and its state per socket.
    ws.on('close', () => this.clear());
  }

  private rawSend(data: string | Buffer): void {
    this.onWritten ??= (err?: Error): void => {
      if (err) return;
      this.written++;
      if (this.head < this.items.length) this.flush();
    };
    // A turn's first frame goes straight out (no delay for a lone event); from the second on
    // (a slice of a backlog, several subscriptions) they are corked and leave in one write.
    if (this.turnFrames++ === 0) process.nextTick(OutgoingFrames.endTurn, this);
    else if (this.turnFrames === 2) {
      this.corkedSocket = corkableSocket(this.ws);
      this.corkedSocket?.cork();
    }
    Reflect.apply(this.socketSend, this.ws, [data, this.onWritten]);
  }

  private static endTurn(frames: OutgoingFrames): void {
    frames.turnFrames = 0;
    const socket = frames.corkedSocket;
    frames.corkedSocket = null;
    socket?.uncork();
  }

  /** Over the soft limit or frames waiting: new work for this socket should wait until its client reads. */
  get congested(): boolean {
    return this.head < this.items.length || this.ws.bufferedAmount >= this.limits.softBytes;
  }

  /** Bytes the client has not read yet that this process holds (queued + buffered in the socket). */
  get unreadBytes(): number {
    return this.queuedBytes + this.ws.bufferedAmount;
  }

  /** A frame in its turn (after those waiting). */
  send(data: string | Buffer): void {
    if (this.closing || this.ws.readyState !== this.ws.OPEN) return;
    if (!this.congested) {
      this.rawSend(data);
      if (this.ws.bufferedAmount > this.limits.hardBytes) this.tooSlow();
      return;
    }
    const progressOf = typeof data === 'string' ? progressSubscription(data) : null;
    if (progressOf !== null) {
      const older = this.waitingProgress?.get(progressOf);
      if (older) this.drop(older);
    }
    const entry: Waiting = { data, bytes: typeof data === 'string' ? Buffer.byteLength(data) : data.length, progressOf, dropped: false };
    this.items.push(entry);
    if (progressOf !== null) (this.waitingProgress ??= new Map()).set(progressOf, entry);
    this.queuedBytes += entry.bytes;
    backlogBytes += entry.bytes;
    if (this.unreadBytes > this.limits.hardBytes) this.tooSlow();
  }

  /** A keep-alive frame (PING/PONG): ahead of the queue, so it waits behind at most the soft limit. */
  sendAhead(data: string): void {
    if (this.closing || this.ws.readyState !== this.ws.OPEN) return;
    this.rawSend(data);
  }

  private drop(entry: Waiting): void {
    entry.dropped = true;
    this.queuedBytes -= entry.bytes;
    backlogBytes -= entry.bytes;
    if (entry.progressOf !== null && this.waitingProgress?.get(entry.progressOf) === entry) this.waitingProgress.delete(entry.progressOf);
  }

  private flush(): void {
    while (this.head < this.items.length && !this.closing && this.ws.readyState === this.ws.OPEN && this.ws.bufferedAmount < this.limits.softBytes) {
      const entry = this.items[this.head++]!;
      if (entry.dropped) continue;
      this.drop(entry);
      this.rawSend(entry.data);
    }
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  private clear(): void {
    backlogBytes -= this.queuedBytes;
    this.queuedBytes = 0;
    this.items = [];
    this.head = 0;
    this.waitingProgress = null;
  }

  private tooSlow(): void {
    const unread = this.unreadBytes;
    this.closing = true;
    closedTooSlow++;
    this.clear();
    this.logger.warn({ unreadBytes: unread, limit: this.limits.hardBytes }, 'closing a WebSocket whose client does not read what it is sent');
    // Its further requests are not read: the close handshake cannot finish, so the grace timer ends it.
    this.ws.pause();
    this.ws.close(TOO_SLOW_CLOSE, `Too slow: ${mib(unread)} unread (limit ${mib(this.limits.hardBytes)}); reconnect and resume.`);
    const timer = setTimeout(() => this.ws.terminate(), CLOSE_GRACE_MS);
    timer.unref();
    this.ws.on('close', () => clearTimeout(timer));
  }
}

/** Puts an OutgoingFrames in front of ws.send: every frame tRPC (or anything else) sends takes its turn. */
export function guardSends(ws: WebSocket, limits: SendLimits, logger: Logger): OutgoingFrames {
  const outgoing = new OutgoingFrames(ws, limits, logger);
  ws.send = ((data: string | Buffer): void => {
    if (data === 'PING' || data === 'PONG') outgoing.sendAhead(data);
    else outgoing.send(data);
  }) as WebSocket['send'];
  return outgoing;
}
