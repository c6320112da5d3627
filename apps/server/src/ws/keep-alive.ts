import type { WebSocket } from 'ws';
import type { OutgoingFrames } from './send-backpressure.ts';

export interface KeepAliveOptions {
  /** Send "PING" after this long without a message from the client. */
  pingMs: number;
  /** Drop the client if this long after a PING neither a message arrived nor any frame reached it. */
  pongWaitMs: number;
}

/**
 * One socket as the sweep sees it: small-integer fields only (times are sweep ticks), so every
 * entry keeps one hidden class; no timers or closures of its own.
 */
class Watched {
  /** The tick in which the client last sent anything (a message or a pong). */
  heardTick: number;
  /** The tick in which the outstanding PING (or its last extension) was sent; -1: none outstanding. */
  pingTick = -1;
  /** outgoing.written when pingTick was set: more since then means the peer still reads. */
  writtenAtPing = 0;

  constructor(
    readonly outgoing: OutgoingFrames,
    tick: number,
  ) {
    this.heardTick = tick;
  }
}

/**
 * Every socket with the same intervals shares one sweep timer; a socket costs a map entry.
 * The sweep runs every fifth of the shorter interval, so a PING goes out 1–1.2 × pingMs after
 * the last message and a silent peer is dropped 1–1.2 × pongWaitMs after the PING.
 */
class Sweep {
  private readonly sockets = new Map<WebSocket, Watched>();
  private timer: NodeJS.Timeout | null = null;
  private readonly tickMs: number;
  /** Ticks so far (while any socket is watched). */
  private tick = 0;
  private readonly pingTicks: number;
  private readonly pongTicks: number;

  constructor(pingMs: number, pongWaitMs: number) {
    this.tickMs = Math.max(10, Math.min(pingMs, pongWaitMs) / 5);
    this.pingTicks = Math.ceil(pingMs / this.tickMs);
    this.pongTicks = Math.ceil(pongWaitMs / this.tickMs);
  }

  add(ws: WebSocket, outgoing: OutgoingFrames): void {
    this.sockets.set(ws, new Watched(outgoing, this.tick));
    // Shared listeners (EventEmitter calls them with the socket as `this`): nothing allocated per socket.
    ws.on('message', heard);
    ws.on('pong', heard);
    ws.on('close', forget);
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), this.tickMs);
      this.timer.unref();
    }
  }

  heard(ws: WebSocket): void {
    const w = this.sockets.get(ws);
    if (!w) return;
    w.heardTick = this.tick;
    w.pingTick = -1;
  }

  forget(ws: WebSocket): void {
    if (!this.sockets.delete(ws)) return;
    ws.off('message', heard);
    ws.off('pong', heard);
    if (this.sockets.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private sweep(): void {
    const now = ++this.tick;
    for (const [ws, w] of this.sockets) {
      if (w.pingTick < 0) {
        // Heard during tick h (somewhere in it): more than pingTicks whole ticks later is at least pingMs.
        if (now - w.heardTick <= this.pingTicks) continue;
        w.pingTick = now;
        w.writtenAtPing = w.outgoing.written;
        w.outgoing.sendAhead('PING');
      } else if (now - w.pingTick >= this.pongTicks) {
        // No answer yet: a peer that took in frames meanwhile is alive (its PONG waits behind them); one that did not is gone.
        if (w.outgoing.written > w.writtenAtPing) {
          w.pingTick = now;
          w.writtenAtPing = w.outgoing.written;
        } else {
          this.forget(ws);
          ws.terminate();
        }
      }
    }
  }
}

/** The sweep each socket is in (one per interval pair in practice: one). */
const sweepOf = new WeakMap<WebSocket, Sweep>();
const sweeps = new Map<string, Sweep>();

function heard(this: WebSocket): void {
  sweepOf.get(this)?.heard(this);
}

function forget(this: WebSocket): void {
  sweepOf.get(this)?.forget(this);
}

/**
 * tRPC's keep-alive (PING after `pingMs` of silence, any message answers it), with one
 * difference: a client still taking in frames is alive even when its PONG is late. tRPC's own
 * closes a busy socket whose PONG waits behind seconds of queued frames; here the PING goes
 * ahead of the queue, and each `pongWaitMs` in which frames were written (the peer reads)
 * extends the wait. A client that neither reads nor answers is dropped.
 */
export function keepAlive(ws: WebSocket, outgoing: OutgoingFrames, { pingMs, pongWaitMs }: KeepAliveOptions): void {
  const key = `${pingMs}/${pongWaitMs}`;
  let sweep = sweeps.get(key);
  if (!sweep) sweeps.set(key, (sweep = new Sweep(pingMs, pongWaitMs)));
  sweepOf.set(ws, sweep);
  sweep.add(ws, outgoing);
}
