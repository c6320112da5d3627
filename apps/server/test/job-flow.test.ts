import { createHash } from 'node:crypto';
import { decodeWav } from '@chorus/inference';
import { describe, expect, it, vi } from 'vitest';
import { bearer, collectEvents, connectClient, LONG_TEXT, range, seqs, useChorus } from './support/harness.ts';

describe('a job over a real socket', () => {
  const chorus = useChorus();

  it('streams status, stage, progress, log and result in order with seq 1, 2, 3… and serves the WAV with Range', async () => {
    const created = await chorus.client.trpc.job.create.mutate({ mode: 'zero_shot', text: 'Hello from Chorus. 这是一个测试。', promptUploadId: chorus.uploadId, promptText: 'A reference voice.', seed: 1234 });
    expect(created).toMatchObject({ seed: 1234, status: 'queued' });
    expect(created.queuePosition).toBeGreaterThanOrEqual(1);

    const stream = collectEvents(chorus.client, created.id);
    await stream.done;
    const events = stream.events;
    expect(seqs(events)).toEqual(range(1, events.length));
    expect(stream.ids).toEqual(seqs(events).map(String));

    const types = events.map((e) => e.type);
    for (const t of ['status', 'stage', 'progress', 'log', 'result'] as const) expect(types).toContain(t);
    // Order: queued first, running before any stage, result before the final status.
    const statuses = events.filter((e) => e.type === 'status').map((e) => e.status);
    expect(statuses[0]).toBe('queued');
    expect(statuses.at(-1)).toBe('succeeded');
    expect(types.indexOf('stage')).toBeGreaterThan(events.findIndex((e) => e.type === 'status' && e.status === 'running'));
    expect(types.lastIndexOf('result')).toBe(events.length - 2);
    const stages = events.filter((e) => e.type === 'stage');
    expect(stages.map((s) => s.index)).toEqual([...stages.map((s) => s.index)].sort((a, b) => a - b));
    const progress = events.filter((e) => e.type === 'progress');
    for (const p of progress) {
      expect(p.step).toBeLessThanOrEqual(p.total);
      expect(p.percent).toBeCloseTo((p.step / p.total) * 100, 0);
    }

    const result = events.find((e) => e.type === 'result')!;
    if (result.type !== 'result') throw new Error('unreachable');
    const full = await fetch(`${chorus.h.url}${result.audioUrl}`, { headers: bearer(chorus.h.token) });
    expect(full.status).toBe(200);
    expect(full.headers.get('content-type')).toBe('audio/wav');
    expect(full.headers.get('accept-ranges')).toBe('bytes');
    const bytes = new Uint8Array(await full.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(result.sha256);
    const decoded = decodeWav(bytes);
    expect(decoded.sampleRate).toBe(24000);
    expect(decoded.channels).toHaveLength(1);

    const partial = await fetch(`${chorus.h.url}${result.audioUrl}`, { headers: { ...bearer(chorus.h.token), range: 'bytes=0-11' } });
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-range')).toBe(`bytes 0-11/${bytes.length}`);
    const head = new Uint8Array(await partial.arrayBuffer());
    expect(Buffer.from(head.subarray(0, 4)).toString()).toBe('RIFF');
    expect(Buffer.from(head.subarray(8, 12)).toString()).toBe('WAVE');
    const tail = await fetch(`${chorus.h.url}${result.audioUrl}`, { headers: { ...bearer(chorus.h.token), range: 'bytes=-10' } });
    expect(tail.status).toBe(206);
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(bytes.subarray(bytes.length - 10));
    const outOfRange = await fetch(`${chorus.h.url}${result.audioUrl}`, { headers: { ...bearer(chorus.h.token), range: `bytes=${bytes.length}-` } });
    expect(outOfRange.status).toBe(416);
    const download = await fetch(`${chorus.h.url}${result.audioUrl}?download=1`, { headers: bearer(chorus.h.token) });
    expect(download.headers.get('content-disposition')).toMatch(/^attachment; filename="chorus-.+\.wav"$/);

    const job = await chorus.client.trpc.job.get.query({ id: created.id });
    expect(job).toMatchObject({ status: 'succeeded', seed: 1234, outputSha256: result.sha256, lastSeq: events.length, audioUrl: result.audioUrl });
  });

  it('resumes after a disconnect with exactly the missed events, and replays the whole log after the end', async () => {
    const created = await chorus.client.trpc.job.create.mutate({ mode: 'cross_lingual', text: LONG_TEXT, promptUploadId: chorus.uploadId, seed: 7 });
    const first = connectClient(chorus.h.url, chorus.h.token);
    let cut!: () => void;
    const cutPoint = new Promise<void>((r) => (cut = r));
    const before = collectEvents(first, created.id, undefined, (e) => {
      if (e.type === 'progress') cut();
    });
    await cutPoint;
    first.close(); // the socket drops mid-job
    const seen = [...before.events];
    const lastSeen = seen.at(-1)!.seq;

    const second = connectClient(chorus.h.url, chorus.h.token);
    const after = collectEvents(second, created.id, String(lastSeen));
    await after.done;
    second.close();
    expect(seqs(after.events)[0]).toBe(lastSeen + 1);
    const combined = [...seen, ...after.events];
    expect(seqs(combined)).toEqual(range(1, combined.length));
    expect(combined.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });

    // A page opened after the job ended replays the whole stored log, identical.
    const late = connectClient(chorus.h.url, chorus.h.token);
    const replay = collectEvents(late, created.id);
    await replay.done;
    late.close();
    expect(replay.events).toEqual(combined);
  });

  it('resumes through wsLink’s own reconnect (the server drops the socket) without gaps or duplicates', async () => {
    const created = await chorus.client.trpc.job.create.mutate({ mode: 'cross_lingual', text: LONG_TEXT, promptUploadId: chorus.uploadId, seed: 8 });
    const c = connectClient(chorus.h.url, chorus.h.token);
    let dropped = false;
    const stream = collectEvents(c, created.id, undefined, (e) => {
      if (!dropped && e.type === 'progress') {
        dropped = true;
        c.ws.connection?.ws.close(); // as if a proxy cut the connection
      }
    });
    await stream.done;
    c.close();
    expect(dropped).toBe(true);
    expect(seqs(stream.events)).toEqual(range(1, stream.events.length));
    expect(stream.events.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });
  });

  it('lists history newest first with cursor paging and a status filter, and pushes changes live', async () => {
    const changes: string[] = [];
    // Listening before the job exists (a fixed wait was not always enough on a loaded machine).
    let sub!: { unsubscribe(): void };
    await new Promise<void>((resolve) => {
      sub = chorus.client.trpc.job.onChange.subscribe(undefined, { onStarted: () => resolve(), onData: (c) => changes.push(`${c.kind}:${c.job.status}`) });
    });
    const a = await chorus.client.trpc.job.create.mutate({ mode: 'pretrained', text: 'One.', speakerId: (await chorus.client.trpc.engine.list.query())[0]!.speakers[0]!.id });
    const done = collectEvents(chorus.client, a.id);
    await done.done;
    // The history push follows the job's events (after a summary is read), so it may land a moment later.
    await vi.waitFor(() => expect(changes.at(-1)).toBe('updated:succeeded'), { timeout: 5000 });
    sub.unsubscribe();
    expect(changes[0]).toBe('created:queued');
    expect(changes).toContain('updated:running');
    expect(changes.at(-1)).toBe('updated:succeeded');

    const page1 = await chorus.client.trpc.job.list.query({ limit: 2 });
    expect(page1.items).toHaveLength(2);
    expect(page1.items[0]!.id).toBe(a.id);
    expect(page1.items[0]!.id > page1.items[1]!.id).toBe(true);
    expect(page1.nextCursor).toBe(page1.items[1]!.id);
    const page2 = await chorus.client.trpc.job.list.query({ limit: 2, cursor: page1.nextCursor });
    expect(page2.items.every((j) => j.id < page1.items[1]!.id)).toBe(true);
    const failed = await chorus.client.trpc.job.list.query({ status: 'failed' });
    expect(failed.items).toEqual([]);
  });

  it('re-runs with the same seed to the same bytes, and with a new seed to different bytes', async () => {
    const created = await chorus.client.trpc.job.create.mutate({ mode: 'instruct', text: 'Say it once more, gently.', promptUploadId: chorus.uploadId, instruct: 'say it gently', seed: 99 });
    await collectEvents(chorus.client, created.id).done;
    const same = await chorus.client.trpc.job.rerun.mutate({ id: created.id, seed: 'same' });
    expect(same.seed).toBe(99);
    const other = await chorus.client.trpc.job.rerun.mutate({ id: created.id, seed: 'random' });
    const sameRun = collectEvents(chorus.client, same.id);
    await sameRun.done;
    expect(sameRun.events).toContainEqual(expect.objectContaining({ type: 'log', level: 'info', message: expect.stringMatching(/^Reproduced: the audio is bit-for-bit identical to parent/) }));
    await collectEvents(chorus.client, other.id).done;
    const [orig, again, diff] = await Promise.all([created.id, same.id, other.id].map((id) => chorus.client.trpc.job.get.query({ id })));
    expect(again!.parentId).toBe(created.id);
    expect(again!.outputSha256).toBe(orig!.outputSha256);
    expect(diff!.seed).not.toBe(99);
    expect(diff!.outputSha256).not.toBe(orig!.outputSha256);
  });
});
