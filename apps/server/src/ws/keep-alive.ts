import type { WebSocket } from 'ws';
import type { OutgoingFrames } from './send-backpressure.ts';

export interface KeepAliveOptions {
  /** Send "PING" after this long without a message from the client. */
  pingMs: number;
  /** Drop the client if this long after a PING neither a message arrived nor any frame reached it. */
  pongWaitMs: number;
}

/**
 * tRPC's keep-alive (PING after `pingMs` of silence, any message answers it), with one
 * difference: a client still taking in frames is alive even when its PONG is late. tRPC's own
 * closes a busy socket whose PONG waits behind seconds of queued frames; here the PING goes
 * ahead of the queue, and each `pongWaitMs` in which frames were written (the peer reads)
 * extends the wait. A client that neither reads nor answers is dropped.
 */
export function keepAlive(ws: WebSocket, outgoing: OutgoingFrames, { pingMs, pongWaitMs }: KeepAliveOptions): void {
  let timer: NodeJS.Timeout | undefined;
  const awaitAnswer = (writtenBefore: number): void => {
    timer = setTimeout(() => {
      if (outgoing.written > writtenBefore) awaitAnswer(outgoing.written);
      else ws.terminate();
    }, pongWaitMs);
  };
  const schedulePing = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const before = outgoing.written;
      outgoing.sendAhead('PING');
      awaitAnswer(before);
    }, pingMs);
  };
  ws.on('message', schedulePing);
  ws.on('pong', schedulePing);
  ws.once('close', () => {
    clearTimeout(timer);
    ws.off('message', schedulePing);
    ws.off('pong', schedulePing);
  });
  schedulePing();
}
