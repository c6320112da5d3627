/**
 * The baseline of the event benchmark: a bare `ws` broadcaster with nothing of Chorus in it.
 * It spawns the very same emitter program the way the command engine does (own process
 * group, the job document on stdin, unbuffered Python) and sends every stdout line, as it
 * is, to the sockets subscribed to that job (`ws://…/jobs/<n>`). No storage, no auth, no
 * envelopes: whatever Chorus costs on top of this is the price of its event path.
 *
 * Run by events.bench.ts: `node --import tsx bench/bare-server.ts <port>`; POST /run
 * `{"jobs": n, "text": "…"}` starts n emitters; it exits when its stdin closes (its parent died).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { CommandJobDocument } from '@chorus/inference';
import { WebSocketServer, type WebSocket } from 'ws';
import { z } from 'zod';

const port = Number(process.argv[2]);
const emitter = path.join(path.dirname(new URL(import.meta.url).pathname), 'emitter.py');
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-bench-bare-'));
const runInputSchema = z.object({ jobs: z.number().int().min(1).max(1000), text: z.string().min(1) });

const subscribers = new Map<number, Set<WebSocket>>();
const emitters = new Set<ChildProcess>();
let runs = 0;

function broadcast(job: number, line: string): void {
  for (const ws of subscribers.get(job) ?? []) ws.send(line);
}

function startEmitter(job: number, text: string): void {
  const document: CommandJobDocument = {
    version: 1,
    mode: 'pretrained',
    text,
    prompt_wav: null,
    prompt_text: null,
    instruct: null,
    speaker_id: 'bench',
    speed: 1,
    seed: 0,
    output_wav: path.join(scratch, `run${runs}-job${job}.wav`),
    generation: 2,
    model: 'bench-emitter',
    sample_rate: 24000,
  };
  const child = spawn('python3', [emitter], {
    detached: true,
    env: { ...process.env, PYTHONUNBUFFERED: '1', PYTHONIOENCODING: 'utf-8' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.once('error', (err) => console.error(`bare server: cannot start the emitter for job ${job}: ${err.message}`));
  emitters.add(child);
  child.once('exit', () => emitters.delete(child));
  child.stdin!.end(JSON.stringify(document));
  let rest = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop()!;
    for (const line of lines) if (line) broadcast(job, line);
  });
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') {
    res.end('ok');
    return;
  }
  if (req.method !== 'POST' || req.url !== '/run') {
    res.writeHead(404).end();
    return;
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => (body += chunk));
  req.on('end', () => {
    let json: unknown = null;
    try {
      json = JSON.parse(body);
    } catch {
      // reported below as a schema failure
    }
    const parsed = runInputSchema.safeParse(json);
    if (!parsed.success) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`POST /run takes {"jobs": 1-1000, "text": "<emitter parameters>"}: ${parsed.error.message}`);
      return;
    }
    runs++;
    for (let job = 0; job < parsed.data.jobs; job++) startEmitter(job, parsed.data.text);
    res.end('started');
  });
});

const wss = new WebSocketServer({ server });
wss.on('connection', (ws, req) => {
  const job = Number(/^\/jobs\/(\d+)$/.exec(req.url ?? '')?.[1] ?? NaN);
  if (!Number.isInteger(job)) {
    ws.close(1008, 'subscribe at /jobs/<n>');
    return;
  }
  let set = subscribers.get(job);
  if (!set) subscribers.set(job, (set = new Set()));
  set.add(ws);
  ws.on('close', () => set.delete(ws));
});

function shutdown(): void {
  for (const child of emitters) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  fs.rmSync(scratch, { recursive: true, force: true });
  process.exit(0);
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// The benchmark holds our stdin open; when it ends, the benchmark is gone and so are we.
process.stdin.on('end', shutdown).on('close', shutdown).resume();

server.listen(port, '127.0.0.1');
