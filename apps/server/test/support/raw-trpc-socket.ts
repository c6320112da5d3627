import WebSocket from 'ws';

/** One message of tRPC's WebSocket wire format, as the server sends it. */
export type Frame = {
  id: number | string | null;
  result?: { type: string; id?: string; data?: unknown };
  error?: { message: string; data: { code: string } };
};

export interface RawSocket {
  ws: WebSocket;
  /** Every frame received so far but PING/PONG (which it never answers). */
  frames: Frame[];
  send(message: unknown): void;
  /** Resolves once `ok` holds for the frames received so far, or fails after `ms`. */
  until(ok: (frames: Frame[]) => boolean, ms?: number): Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
}

/**
 * A real WebSocket speaking tRPC's wire format by hand: one message can carry as many calls
 * as a test wants, and it answers nothing (not even PING), like a careless or hostile client.
 */
export async function rawTrpcSocket(url: string, token: string): Promise<RawSocket> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/trpc?connectionParams=1`, { origin: url });
  const frames: Frame[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  ws.on('message', (data) => {
    const text = data.toString();
    if (text !== 'PING' && text !== 'PONG') frames.push(JSON.parse(text) as Frame);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  ws.send(JSON.stringify({ method: 'connectionParams', data: { token } }));
  return {
    ws,
    frames,
    closed,
    send: (message) => ws.send(JSON.stringify(message)),
    async until(ok, ms = 5000) {
      const deadline = Date.now() + ms;
      while (!ok(frames)) {
        if (Date.now() > deadline) throw new Error(`timed out; frames so far: ${JSON.stringify(frames).slice(0, 500)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}
