import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { openDb, type Db } from '@chorus/db';
import { openObjectStore, storageConfigFromEnv, type ObjectStore } from '@chorus/storage';
import { startS3StandIn, type S3StandIn } from '@chorus/storage/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { voicedWav } from './helpers/audio.ts';
import { bearer, collectEvents, uploadReference, useChorus } from './support/harness.ts';

/**
 * A whole server with CHORUS_STORAGE_URL=s3://…: uploads, the worker's prompt and output, job
 * audio with Range, deletion and the start-up claim all go through object storage. The bucket
 * is served by a local S3-compatible server started here (@20minutes/s3rver), a stand-in for
 * real S3 (AWS, MinIO, Ceph…), which this machine cannot reach.
 */
const PREFIX = 'chorus';
let s3: S3StandIn;
beforeAll(async () => {
  s3 = await startS3StandIn();
});
afterAll(async () => {
  await s3?.close();
});

describe('a server whose uploads and audio live in S3', () => {
  const chorus = useChorus(() => s3.env(PREFIX));
  let db: Db;
  let store: ObjectStore;
  beforeAll(async () => {
    db = await openDb(chorus.h.databaseUrl);
    // The same bucket as the server, opened the way it does (to reach around the server in the test).
    store = await openObjectStore(storageConfigFromEnv(s3.env(PREFIX), path.join(chorus.h.dir, 'data')));
  });
  afterAll(async () => {
    await store?.close();
    await db?.$disconnect();
  });

  /** Keys in the bucket, without the server's prefix. */
  const bucketKeys = async (): Promise<string[]> => (await s3.keys()).map((k) => k.slice(PREFIX.length + 1));
  /** Keys the database rows refer to, plus the storage id. */
  const referencedKeys = async (): Promise<string[]> => {
    const uploads = await db.upload.findMany({ select: { originalPath: true, pcmPath: true } });
    const jobs = await db.job.findMany({ where: { outputPath: { not: null } }, select: { outputPath: true } });
    return [...new Set(['chorus-storage-id', ...uploads.flatMap((u) => [u.originalPath, u.pcmPath]), ...jobs.map((j) => j.outputPath!)])].sort();
  };
  /** Nothing of a person's voice or its audio in the local data directory (only the lock, the database, scratch). */
  const localMediaFiles = (): string[] => {
    const dataDir = path.join(chorus.h.dir, 'data');
    return (fs.readdirSync(dataDir, { recursive: true }) as string[]).filter((f) => f.endsWith('.wav') || f.endsWith('.tmp') || f.startsWith('uploads') || f.startsWith('outputs'));
  };

  it('stores an upload, runs a job on it, serves its audio with and without Range, and deletes it leaving nothing unreferenced', async () => {
    const upload = await db.upload.findUniqueOrThrow({ where: { id: chorus.uploadId } });
    expect(await bucketKeys()).toEqual(['chorus-storage-id', upload.originalPath, upload.pcmPath].sort());
    // The same bytes again are recognised by sha256 and stored once.
    expect((await uploadReference(chorus.h.url, chorus.h.token)).id).toBe(chorus.uploadId);
    expect(await bucketKeys()).toHaveLength(3);

    const created = await chorus.client.trpc.job.create.mutate({ mode: 'zero_shot', text: 'Stored in a bucket.', promptUploadId: chorus.uploadId, promptText: 'A reference voice.', seed: 99 });
    const stream = collectEvents(chorus.client, created.id);
    await stream.done;
    const result = stream.events.find((e) => e.type === 'result');
    if (result?.type !== 'result') throw new Error(`the job did not succeed: ${JSON.stringify(stream.events.filter((e) => e.type === 'error'))}`);
    const job = await db.job.findUniqueOrThrow({ where: { id: created.id } });
    expect(job.outputPath).toMatch(new RegExp(`^outputs/${created.id}-\\d+\\.wav$`));
    expect(await bucketKeys()).toEqual(await referencedKeys());
    expect(localMediaFiles()).toEqual([]);

    const audio = `${chorus.h.url}${result.audioUrl}`;
    const full = await fetch(audio, { headers: bearer(chorus.h.token) });
    expect(full.status).toBe(200);
    expect(full.headers.get('accept-ranges')).toBe('bytes');
    const bytes = new Uint8Array(await full.arrayBuffer());
    expect(Number(full.headers.get('content-length'))).toBe(bytes.length);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(result.sha256);
    expect(Buffer.from(bytes.subarray(0, 4)).toString()).toBe('RIFF');

    const partial = await fetch(audio, { headers: { ...bearer(chorus.h.token), range: 'bytes=0-11' } });
    expect(partial.status).toBe(206);
    expect(partial.headers.get('content-range')).toBe(`bytes 0-11/${bytes.length}`);
    expect(new Uint8Array(await partial.arrayBuffer())).toEqual(bytes.subarray(0, 12));
    const middle = await fetch(audio, { headers: { ...bearer(chorus.h.token), range: 'bytes=100-1099' } });
    expect(middle.status).toBe(206);
    expect(new Uint8Array(await middle.arrayBuffer())).toEqual(bytes.subarray(100, 1100));
    const tail = await fetch(audio, { headers: { ...bearer(chorus.h.token), range: 'bytes=-10' } });
    expect(tail.status).toBe(206);
    expect(new Uint8Array(await tail.arrayBuffer())).toEqual(bytes.subarray(bytes.length - 10));
    const outOfRange = await fetch(audio, { headers: { ...bearer(chorus.h.token), range: `bytes=${bytes.length}-` } });
    expect(outOfRange.status).toBe(416);
    expect(outOfRange.headers.get('content-range')).toBe(`bytes */${bytes.length}`);
    const head = await fetch(audio, { method: 'HEAD', headers: { ...bearer(chorus.h.token), range: 'bytes=0-99' } });
    expect(head.status).toBe(206);
    expect(head.headers.get('content-length')).toBe('100');

    // The job and (no other job uses it) its upload go with their objects.
    await chorus.client.trpc.job.delete.mutate({ id: created.id });
    expect(await db.upload.count()).toBe(0);
    expect(await bucketKeys()).toEqual(['chorus-storage-id']);
    expect(await bucketKeys()).toEqual(await referencedKeys());
  });

  it('answers 410 for audio whose object is gone, and fails a job whose prompt object is gone with PROMPT_MISSING', async () => {
    const voice = voicedWav({ sampleRate: 24000, seconds: 3, f0: 180 });
    const upload = await uploadReference(chorus.h.url, chorus.h.token, voice);
    const done = await chorus.client.trpc.job.create.mutate({ mode: 'zero_shot', text: 'Soon gone.', promptUploadId: upload.id, promptText: 'A voice.', seed: 5 });
    await collectEvents(chorus.client, done.id).done;
    const { outputPath } = await db.job.findUniqueOrThrow({ where: { id: done.id } });
    await store.remove(outputPath!);
    const gone = await fetch(`${chorus.h.url}/api/jobs/${done.id}/audio`, { headers: bearer(chorus.h.token) });
    expect(gone.status).toBe(410);
    expect(await gone.json()).toMatchObject({ error: { code: 'AUDIO_MISSING' } });

    const row = await db.upload.findUniqueOrThrow({ where: { id: upload.id } });
    await store.remove(row.pcmPath);
    const failing = await chorus.client.trpc.job.create.mutate({ mode: 'zero_shot', text: 'No voice.', promptUploadId: upload.id, promptText: 'A voice.', seed: 6 });
    const stream = collectEvents(chorus.client, failing.id);
    await stream.done;
    expect(stream.events.find((e) => e.type === 'error')).toMatchObject({ code: 'PROMPT_MISSING', message: expect.stringContaining('missing from storage') });
  });
});
