/**
 * Watching one Chorus job the two ways a portal can: pushed over the job.events WebSocket
 * subscription, or polled with job.get over HTTP. Each watcher counts the bytes the server
 * sent it (its TCP socket's bytesRead: frames or responses with their headers) and when each
 * emitter line first became visible to it, so the benchmark can price a delivered update.
 */
import http from 'node:http';
import type { IncomingMessage } from 'node:http';
import type net from 'node:net';
import type { AppRouter } from '@chorus/api';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import WebSocket from 'ws';
import { z } from 'zod';
import { wallMs } from './processes.ts';
import { parseBenchLine } from './tally.ts';

/** Where the server is and an admin token (a ChorusServer has both). */
export interface ChorusAccess {
  url: string;
  token: string;
}

/** Bytes read from a set of sockets: what the server wrote to this watcher. */
class WireCounter {
  private readonly sockets = new Set<net.Socket>();
  add(socket: net.Socket): void {
    this.sockets.add(socket);
  }
  /** Closed sockets keep their count, so this never goes down. */
  get bytes(): number {
    let n = 0;
    for (const s of this.sockets) n += s.bytesRead;
    return n;
  }
}

/** One watcher of one job, either way. */
export interface Watcher {
  /** Bytes the server sent this watcher so far. */
  bytes(): number;
  /** Updates delivered so far (push: events; poll: answers whose state differed from the previous one). */
  updates(): number;
  /** Requests made so far (poll only; push: 0). */
  requests(): number;
  /** The job reached a terminal status and this watcher saw it. */
  finished: Promise<void>;
  close(): void;
}

const TERMINAL = new Set(['succeeded', 'failed', 'canceled']);

/** A tRPC ws client whose WebSocket reports its TCP socket (ws emits 'upgrade' with the handshake response). */
function countingWebSocket(counter: WireCounter): typeof globalThis.WebSocket {
  class Counting extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      this.once('upgrade', (res: IncomingMessage) => counter.add(res.socket));
    }
  }
  // Node 20 has no global WebSocket; the ws package implements the same interface.
  return Counting as unknown as typeof globalThis.WebSocket;
}

export interface PushWatcher extends Watcher {
  /** The emitter's "bench ready" line arrived (a poller cannot see log lines). */
  ready: Promise<void>;
  /** Latency of every emitter line this watcher got (ms from its due time). */
  readonly latencies: number[];
  /** Emitter lines seen, by index (to spot a missing one). */
  readonly lines: Set<number>;
  /** Every bench line's seq and due time, as delivered (the log map for the pollers). */
  readonly log: Map<number, number>;
  /** Something the watcher saw that explains a failure (an error event, a socket error). */
  readonly notes: string[];
}

/** A job.events subscriber on its own WebSocket, from the start of the job's log. */
export function pushWatcher(access: ChorusAccess, jobId: string): PushWatcher {
  const counter = new WireCounter();
  const latencies: number[] = [];
  const lines = new Set<number>();
  const log = new Map<number, number>();
  const notes: string[] = [];
  let events = 0;
  let onReady!: () => void;
  let onFinished!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  const finished = new Promise<void>((r) => (onFinished = r));
  const ws = createWSClient({
    url: `${access.url.replace(/^http/, 'ws')}/trpc`,
    connectionParams: { token: access.token },
    WebSocket: countingWebSocket(counter),
  });
  const trpc = createTRPCClient<AppRouter>({ links: [wsLink({ client: ws })] });
  const sub = trpc.job.events.subscribe(
    { id: jobId },
    {
      onData(envelope) {
        const now = wallMs();
        events++;
        const event = envelope.data;
        if (event.type === 'log') {
          const line = parseBenchLine(event.message);
          if (line && !lines.has(line.index)) {
            lines.add(line.index);
            latencies.push(now - line.dueMs);
            log.set(event.seq, line.dueMs);
          } else if (event.message === 'bench ready') onReady();
        } else if (event.type === 'error') notes.push(`job ${jobId} failed: ${event.code} ${event.message}`);
        else if (event.type === 'status' && TERMINAL.has(event.status)) onFinished();
      },
      onError(err) {
        notes.push(`subscription error: ${err.message}`);
      },
    },
  );
  return {
    bytes: () => counter.bytes,
    updates: () => events,
    requests: () => 0,
    ready,
    finished,
    latencies,
    lines,
    log,
    notes,
    close() {
      sub.unsubscribe();
      ws.close();
    },
  };
}

const jobGetAnswer = z.object({ result: z.object({ data: z.object({ status: z.string(), lastSeq: z.number().int() }) }) });

export interface PollWatcher extends Watcher {
  /** Answers that brought a new state: when they arrived and the lastSeq they showed. */
  readonly seen: Array<{ atMs: number; lastSeq: number }>;
  readonly notes: string[];
}

/**
 * GET /trpc/job.get every `intervalMs` on one keep-alive connection, as a portal's job page
 * without push would (react-query's refetchInterval: a tick while the last request is still
 * out is skipped). An answer whose body equals the previous one delivered nothing new.
 */
export function pollWatcher(access: ChorusAccess, jobId: string, intervalMs: number): PollWatcher {
  const counter = new WireCounter();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const url = `${access.url}/trpc/job.get?input=${encodeURIComponent(JSON.stringify({ id: jobId }))}`;
  const seen: Array<{ atMs: number; lastSeq: number }> = [];
  const notes: string[] = [];
  let previous = '';
  let requests = 0;
  let inFlight = false;
  let stopped = false;
  let onFinished!: () => void;
  const finished = new Promise<void>((r) => (onFinished = r));
  const poll = (): void => {
    if (inFlight || stopped) return;
    inFlight = true;
    requests++;
    const req = http.get(url, { agent, headers: { authorization: `Bearer ${access.token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const atMs = wallMs();
        inFlight = false;
        const body = Buffer.concat(chunks).toString();
        if (res.statusCode !== 200) {
          notes.push(`job.get answered ${res.statusCode}: ${body.slice(0, 200)}`);
          return;
        }
        if (body === previous) return;
        previous = body;
        let answer: z.infer<typeof jobGetAnswer>;
        try {
          answer = jobGetAnswer.parse(JSON.parse(body));
        } catch (err) {
          notes.push(`job.get answered something else: ${err instanceof Error ? err.message : String(err)}`);
          return;
        }
        const { status, lastSeq } = answer.result.data;
        seen.push({ atMs, lastSeq });
        if (TERMINAL.has(status)) onFinished();
      });
    });
    req.on('socket', (s: net.Socket) => counter.add(s));
    req.on('error', (err) => {
      inFlight = false;
      notes.push(`job.get failed: ${err.message}`);
    });
  };
  // Watchers of one job open their pages at different moments: spread the phases.
  const phase = setTimeout(() => {
    poll();
    timer = setInterval(poll, intervalMs);
  }, Math.random() * intervalMs);
  let timer: NodeJS.Timeout | undefined;
  return {
    bytes: () => counter.bytes,
    updates: () => seen.length,
    requests: () => requests,
    finished,
    seen,
    notes,
    close() {
      stopped = true;
      clearTimeout(phase);
      clearInterval(timer);
      agent.destroy();
    },
  };
}

/**
 * Latency of each emitter line as a poller saw it: from its due time to the first answer
 * whose lastSeq covers the line's seq (the log map comes from a push read of the whole log).
 */
export function pollLatencies(seen: PollWatcher['seen'], log: Map<number, number>): number[] {
  const lines = [...log].sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  let i = 0;
  for (const answer of seen) {
    while (i < lines.length && lines[i]![0] <= answer.lastSeq) out.push(answer.atMs - lines[i++]![1]);
  }
  return out;
}
