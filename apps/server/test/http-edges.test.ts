import net from 'node:net';
import path from 'node:path';
import { TRPCClientError } from '@trpc/client';
import { describe, expect, it } from 'vitest';
import { loadConfig, startChorus } from '../src/index.ts';
import pino from 'pino';
import { bearer, collectEvents, useChorus } from './support/harness.ts';

/** Send raw bytes and return what the server answered (its status line). */
function raw(url: string, request: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(request));
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.on('end', () => resolve(answer.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
  });
}

describe('the server under odd requests', () => {
  const chorus = useChorus();

  it('answers malformed request targets with 400 and keeps running', async () => {
    expect(await raw(chorus.h.url, 'GET //x:99999/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n')).toBe('HTTP/1.1 400 Bad Request');
    expect(await raw(chorus.h.url, 'GET //x:99999/ HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n')).toBe('HTTP/1.1 400 Bad Request');
    expect((await fetch(`${chorus.h.url}/api/jobs/%E0%A4%A/audio`)).status).toBe(400);
    expect((await fetch(`${chorus.h.url}/%E0%A4%A`)).status).toBe(400);
    expect((await fetch(`${chorus.h.url}/healthz`)).ok).toBe(true);
  });

  it('refuses an oversized tRPC body before reading it all', async () => {
    const body = JSON.stringify({ mode: 'zero_shot', text: 'x'.repeat(2 * 1024 * 1024) });
    const res = await fetch(`${chorus.h.url}/trpc/job.create`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(chorus.h.token) }, body });
    expect(res.status).toBe(413);
    expect((await fetch(`${chorus.h.url}/healthz`)).ok).toBe(true);
  });

  it('ends a finished job’s stream at once for a client that already has its last event, and refuses ids beyond it', async () => {
    const job = await chorus.client.trpc.job.create.mutate({ mode: 'cross_lingual', text: 'Short.', promptUploadId: chorus.uploadId });
    const all = collectEvents(chorus.client, job.id);
    await all.done;
    const last = String(all.events.at(-1)!.seq);
    const again = collectEvents(chorus.client, job.id, last);
    await again.done;
    expect(again.events).toEqual([]);
    const beyond = collectEvents(chorus.client, job.id, String(Number(last) + 5));
    const err = await beyond.done.then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(TRPCClientError);
    expect((err as Error).message).toBe(`lastEventId ${Number(last) + 5} is beyond this job's last event (${last}).`);
  });

  it('refuses a second Chorus on the same data directory', async () => {
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: chorus.h.databaseUrl, CHORUS_DATA_DIR: path.join(chorus.h.dir, 'data') });
    await expect(startChorus(config, pino({ level: 'silent' }))).rejects.toThrow(/^Another Chorus \(pid \d+\) is using .*\. Stop it first/);
  });
});
