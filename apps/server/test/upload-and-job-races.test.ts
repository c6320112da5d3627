import fs from 'node:fs';
import path from 'node:path';
import { AuthService, JobEventLog, appRouter, createApiContext, createCallerFactory, deleteJob, type ApiServices, type EngineCatalog, type JobChange, type StoredFiles } from '@chorus/api';
import { uploadErrorSchema } from '@chorus/api/schemas';
import { openDb, type Db } from '@chorus/db';
import { InProcessEventBus } from '@chorus/inference';
import { TRPCClientError } from '@trpc/client';
import { TRPCError } from '@trpc/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { voicedWav } from './helpers/audio.ts';
import { addPerson, bearer, collectEvents, connectClient, sleep, uploadReference, useChorus, type Client } from './support/harness.ts';

const wav = (f0: number): Uint8Array => voicedWav({ sampleRate: 24000, seconds: 3, f0 });

/** Rejects with whatever the call threw. */
const errorOf = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );

describe('uploads, job creation and deletion under races', () => {
  // Sweeps often, so the retention case below does not wait an hour (retentionDays is 0 until then).
  const chorus = useChorus({ CHORUS_RETENTION_SWEEP_MS: '1000' });
  let db: Db;
  let dataDir: string;

  beforeAll(async () => {
    db = await openDb(chorus.h.databaseUrl);
    dataDir = path.join(chorus.h.dir, 'data');
  });
  afterAll(async () => db?.$disconnect());

  const upload = (token: string, bytes: Uint8Array): Promise<Response> =>
    fetch(`${chorus.h.url}/api/uploads`, { method: 'POST', body: bytes, headers: { 'content-type': 'audio/wav', ...bearer(token) } });

  const finishedJob = async (client: Client, promptUploadId: string, text = 'Done.'): Promise<string> => {
    const job = await client.trpc.job.create.mutate({ mode: 'cross_lingual', text, promptUploadId });
    await collectEvents(client, job.id).done;
    return job.id;
  };

  /** The server's services, with our own event log (to interleave) and files (to observe), on the same SQLite file. */
  async function services(events: JobEventLog, bus: InProcessEventBus, files: StoredFiles): Promise<ApiServices> {
    const engineList = await chorus.client.trpc.engine.list.query();
    const engines: EngineCatalog = {
      list: () => engineList,
      get: (id) => engineList.find((e) => (id === undefined ? e.default : e.id === id)),
      health: () => ({ status: 'up', message: null, checkedAt: null }),
    };
    return { db, bus, files, engines, events, queue: { enqueue: async () => {}, abortRunning: async () => {} }, auth: new AuthService(db) };
  }

  const removeFromDataDir: StoredFiles = { remove: (p) => fs.promises.rm(path.join(dataDir, p), { force: true }) };

  describe('M4: upload limits hold under parallel uploads and count both stored files', () => {
    it('N parallel uploads: exactly the hourly limit succeeds, the rest get 429 RATE_LIMITED', async () => {
      const member = await addPerson(chorus.h, 'member');
      await chorus.client.trpc.settings.update.mutate({ uploadsPerHour: 3 });
      try {
        const responses = await Promise.all(Array.from({ length: 7 }, (_, i) => upload(member.token, wav(150 + i * 9))));
        const statuses = responses.map((r) => r.status).sort();
        expect(statuses).toEqual([201, 201, 201, 429, 429, 429, 429]);
        for (const res of responses.filter((r) => r.status === 429)) {
          const body = uploadErrorSchema.parse(await res.json());
          expect(body.error.code).toBe('RATE_LIMITED');
          expect(body.error.message).toMatch(/You have uploaded 3 files in the last hour; the limit is 3 per hour \(an admin can change it\)\. Try again later\./);
        }
        expect(await db.upload.count({ where: { uploadedById: member.id } })).toBe(3);
      } finally {
        await chorus.client.trpc.settings.update.mutate({ uploadsPerHour: 60 });
      }
    });

    it('the stored-bytes quota counts the decoded PCM copy as well as the original', async () => {
      const member = await addPerson(chorus.h, 'member');
      const first = wav(163);
      // 16-bit mono WAV at 24 kHz: the PCM copy is as large as the original, so one upload stores twice its size.
      await chorus.client.trpc.settings.update.mutate({ uploadBytesPerMember: first.length * 2 + first.length });
      try {
        expect((await upload(member.token, first)).status).toBe(201);
        const row = await db.upload.findFirstOrThrow({ where: { uploadedById: member.id } });
        const pcmOnDisk = fs.statSync(path.join(dataDir, row.pcmPath)).size;
        expect(pcmOnDisk).toBeGreaterThan(first.length * 0.99);
        // Counting only originals, a second file (2 × size) would fit in 3 × size; with the PCM copies (4 × size) it does not.
        const second = await upload(member.token, wav(171));
        expect(second.status).toBe(429);
        const body = uploadErrorSchema.parse(await second.json());
        expect(body.error.code).toBe('QUOTA_EXCEEDED');
        const mb = (n: number): string => (n / 1024 / 1024).toFixed(1);
        expect(body.error.message).toContain(`Your uploads use ${mb(first.length + pcmOnDisk)} MB of your ${mb(first.length * 3)} MB quota`);
        expect(body.error.message).toMatch(/the original and a decoded copy for the engines\); this file needs 0\.3 MB and does not fit/);
        expect(await db.upload.count({ where: { uploadedById: member.id } })).toBe(1);
      } finally {
        await chorus.client.trpc.settings.update.mutate({ uploadBytesPerMember: 500 * 1024 * 1024 });
      }
    });

    it('N parallel uploads: only as many as fit the quota are stored', async () => {
      const member = await addPerson(chorus.h, 'member');
      const size = wav(180).length;
      // Room for two uploads (original + PCM each), not three.
      await chorus.client.trpc.settings.update.mutate({ uploadBytesPerMember: size * 2 * 2 + size });
      try {
        const responses = await Promise.all(Array.from({ length: 5 }, (_, i) => upload(member.token, wav(180 + i * 11))));
        expect(responses.map((r) => r.status).sort()).toEqual([201, 201, 429, 429, 429]);
        for (const res of responses.filter((r) => r.status === 429)) expect(uploadErrorSchema.parse(await res.json()).error.code).toBe('QUOTA_EXCEEDED');
        expect(await db.upload.count({ where: { uploadedById: member.id } })).toBe(2);
      } finally {
        await chorus.client.trpc.settings.update.mutate({ uploadBytesPerMember: 500 * 1024 * 1024 });
      }
    });
  });

  describe('M5: a new job may only clone a voice the caller uploaded', () => {
    it('refuses a member another member’s upload with 403, lets re-runs and admins through', async () => {
      const alice = await addPerson(chorus.h, 'member');
      const bob = await addPerson(chorus.h, 'member');
      const asAlice = connectClient(chorus.h.url, alice.token);
      const asBob = connectClient(chorus.h.url, bob.token);
      try {
        const aliceVoice = wav(205);
        const aliceUpload = await uploadReference(chorus.h.url, alice.token, aliceVoice);
        const aliceJob = await finishedJob(asAlice, aliceUpload.id, 'Alice speaking.');

        const jobsBefore = await db.job.count();
        const err = await errorOf(asBob.trpc.job.create.mutate({ mode: 'cross_lingual', text: 'Cloned.', promptUploadId: aliceUpload.id }));
        expect(err).toBeInstanceOf(TRPCClientError);
        expect((err as TRPCClientError<typeof appRouter>).data?.code).toBe('FORBIDDEN');
        expect((err as Error).message).toBe(
          `Upload "${aliceUpload.id}" was sent by someone else; a new job can only use reference audio you uploaded yourself (POST /api/uploads). To use that voice, re-run a job of theirs that uses it.`,
        );
        // The same over plain HTTP: a 403, and nothing written.
        const http = await fetch(`${chorus.h.url}/trpc/job.create`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...bearer(bob.token) },
          body: JSON.stringify({ mode: 'cross_lingual', text: 'Cloned.', promptUploadId: aliceUpload.id }),
        });
        expect(http.status).toBe(403);
        expect(await db.job.count()).toBe(jobsBefore);

        // A re-run of Alice's job reuses her upload deliberately: the job is visible to Bob.
        const rerun = await asBob.trpc.job.rerun.mutate({ id: aliceJob });
        expect(await db.job.findUniqueOrThrow({ where: { id: rerun.id } })).toMatchObject({ createdById: bob.id, promptUploadId: aliceUpload.id, parentId: aliceJob });
        // An admin may use anyone's upload.
        await chorus.client.trpc.job.create.mutate({ mode: 'cross_lingual', text: 'Admin.', promptUploadId: aliceUpload.id });
        // Bob sending the very same bytes gets an upload of his own (the files are shared), and may use it.
        const bobUpload = await uploadReference(chorus.h.url, bob.token, aliceVoice);
        expect(bobUpload.id).not.toBe(aliceUpload.id);
        const [aliceRow, bobRow] = await Promise.all([aliceUpload.id, bobUpload.id].map((id) => db.upload.findUniqueOrThrow({ where: { id } })));
        expect(bobRow).toMatchObject({ uploadedById: bob.id, sha256: aliceRow!.sha256, originalPath: aliceRow!.originalPath, pcmPath: aliceRow!.pcmPath });
        await asBob.trpc.job.create.mutate({ mode: 'cross_lingual', text: 'Same bytes.', promptUploadId: bobUpload.id });
        // Sending it again is idempotent for him too.
        expect((await uploadReference(chorus.h.url, bob.token, aliceVoice)).id).toBe(bobUpload.id);
      } finally {
        asAlice.close();
        asBob.close();
      }
    });
  });

  describe('deletion against a re-upload of the same bytes', () => {
    it('two people, the same bytes: a row each, one pair of files, kept until the last row goes', async () => {
      const carol = await addPerson(chorus.h, 'member');
      const dave = await addPerson(chorus.h, 'member');
      const voice = wav(241);
      const carolUp = await upload(carol.token, voice);
      const daveUp = await upload(dave.token, voice);
      // Dave's bytes are new to Dave: 201, a row of his own (his quota pays for it), the files shared.
      expect([carolUp.status, daveUp.status]).toEqual([201, 201]);
      const [c, d] = (await Promise.all([carolUp.json(), daveUp.json()])) as { id: string }[];
      const rows = await db.upload.findMany({ where: { id: { in: [c!.id, d!.id] } } });
      expect(new Set(rows.map((r) => r.originalPath)).size).toBe(1);
      expect(rows.map((r) => r.uploadedById).sort()).toEqual([carol.id, dave.id].sort());

      const asCarol = connectClient(chorus.h.url, carol.token);
      try {
        const carolJob = await finishedJob(asCarol, c!.id);
        await asCarol.trpc.job.delete.mutate({ id: carolJob });
      } finally {
        asCarol.close();
      }
      // Carol's row went with her last job; Dave's row still points at files that are there.
      expect(await db.upload.findUnique({ where: { id: c!.id } })).toBeNull();
      const daveRow = await db.upload.findUniqueOrThrow({ where: { id: d!.id } });
      expect(fs.existsSync(path.join(dataDir, daveRow.originalPath))).toBe(true);
      expect(fs.existsSync(path.join(dataDir, daveRow.pcmPath))).toBe(true);
    });

    it('identical bytes sent while a deletion removes the upload’s files are stored anew, files and all', async () => {
      const voice = wav(233);
      const up = await uploadReference(chorus.h.url, chorus.h.token, voice);
      const job = await finishedJob(chorus.client, up.id);
      const row = await db.upload.findUniqueOrThrow({ where: { id: up.id } });

      // The interleaving: the deletion has committed and is about to remove the upload's files
      // when the same bytes arrive. The upload waits for the deletion (or, unfixed, finishes first).
      const race: { reupload: Promise<Response> | null } = { reupload: null };
      const files: StoredFiles = {
        remove: async (p) => {
          if (p === row.originalPath && !race.reupload) {
            race.reupload = upload(chorus.h.token, voice);
            await Promise.race([race.reupload, sleep(2000)]);
          }
          await removeFromDataDir.remove(p);
        },
      };
      const removed = await deleteJob(db, files, new InProcessEventBus(), job);
      expect(removed?.uploadId).toBe(up.id);
      expect(race.reupload).not.toBeNull();
      const res = await race.reupload!;
      expect(res.status).toBe(201);
      const again = (await res.json()) as { id: string };
      const stored = await db.upload.findUniqueOrThrow({ where: { id: again.id } });
      expect(stored.sha256).toBe(row.sha256);
      expect(fs.existsSync(path.join(dataDir, stored.originalPath))).toBe(true);
      expect(fs.existsSync(path.join(dataDir, stored.pcmPath))).toBe(true);
      // And it is usable: a job with it runs to the end.
      const next = await chorus.client.trpc.job.create.mutate({ mode: 'cross_lingual', text: 'Still here.', promptUploadId: again.id });
      const stream = collectEvents(chorus.client, next.id);
      await stream.done;
      expect(stream.events.at(-1)).toMatchObject({ type: 'status', status: 'succeeded' });
    });
  });

  describe('a job insert racing the deletion of what it refers to', () => {
    /** An event log that runs `before` between job.create's checks and its insert. */
    class InterleavedLog extends JobEventLog {
      before: (() => Promise<unknown>) | null = null;
      override async createJob(...args: Parameters<JobEventLog['createJob']>): ReturnType<JobEventLog['createJob']> {
        const step = this.before;
        this.before = null;
        await step?.();
        return super.createJob(...args);
      }
    }

    it('a re-run whose parent job and upload were just deleted gets a clear 409 and writes nothing', async () => {
      const member = await addPerson(chorus.h, 'member');
      const up = await uploadReference(chorus.h.url, chorus.h.token, wav(247));
      const parent = await finishedJob(chorus.client, up.id);
      const bus = new InProcessEventBus();
      const events = new InterleavedLog(db, bus);
      const caller = createCallerFactory(appRouter)(
        createApiContext(await services(events, bus, removeFromDataDir), { transport: 'http', ip: null, userAgent: null }, { kind: 'token', token: member.token }, null),
      );
      events.before = () => deleteJob(db, removeFromDataDir, bus, parent);

      const err = await errorOf(caller.job.rerun({ id: parent }));
      expect(err).toBeInstanceOf(TRPCError);
      expect((err as TRPCError).code).toBe('CONFLICT');
      expect((err as TRPCError).message).toBe(`The reference audio of job "${parent}" was deleted while this job was being created; upload it again and create a new job with it.`);
      expect(await db.upload.count({ where: { id: up.id } })).toBe(0);
      expect(await db.job.count({ where: { OR: [{ createdById: member.id }, { parentId: parent }, { id: parent }] } })).toBe(0);
    });

    it('a new job whose upload was just deleted gets a clear 409', async () => {
      const up = await uploadReference(chorus.h.url, chorus.h.token, wav(251));
      const bus = new InProcessEventBus();
      const events = new InterleavedLog(db, bus);
      const caller = createCallerFactory(appRouter)(
        createApiContext(await services(events, bus, removeFromDataDir), { transport: 'http', ip: null, userAgent: null }, { kind: 'token', token: chorus.h.token }, null),
      );
      events.before = () => db.upload.delete({ where: { id: up.id } });
      const jobsBefore = await db.job.count();
      const eventsBefore = await db.jobEvent.count();

      const err = await errorOf(caller.job.create({ mode: 'cross_lingual', text: 'Too late.', promptUploadId: up.id }));
      expect((err as TRPCError).code).toBe('CONFLICT');
      expect((err as TRPCError).message).toBe(`Upload "${up.id}" was deleted while this job was being created; upload the reference audio again.`);
      expect(await db.job.count()).toBe(jobsBefore);
      expect(await db.jobEvent.count()).toBe(eventsBefore);
    });
  });

  describe('job.onChange tells open lists about deletions', () => {
    it('a viewer’s subscription over a real WebSocket sees a person’s delete and a retention delete', async () => {
      const viewer = await addPerson(chorus.h, 'viewer');
      const asViewer = connectClient(chorus.h.url, viewer.token);
      const changes: JobChange[] = [];
      let started!: () => void;
      const ready = new Promise<void>((r) => (started = r));
      const sub = asViewer.trpc.job.onChange.subscribe(undefined, { onStarted: () => started(), onData: (c) => changes.push(c) });
      const deletedPush = async (id: string): Promise<JobChange | undefined> => {
        const deadline = Date.now() + 10_000;
        for (;;) {
          const found = changes.find((c) => c.kind === 'deleted' && c.job.id === id);
          if (found || Date.now() > deadline) return found;
          await sleep(50);
        }
      };
      try {
        await ready;
        const deleted = await finishedJob(chorus.client, (await uploadReference(chorus.h.url, chorus.h.token, wav(257))).id, 'Deleted by hand.');
        await chorus.client.trpc.job.delete.mutate({ id: deleted });
        expect(await deletedPush(deleted)).toMatchObject({ kind: 'deleted', job: { id: deleted, status: 'succeeded' } });

        const old = await finishedJob(chorus.client, (await uploadReference(chorus.h.url, chorus.h.token, wav(263))).id, 'Deleted by retention.');
        await db.job.update({ where: { id: old }, data: { finishedAt: new Date(Date.now() - 3 * 24 * 3600_000) } });
        await chorus.client.trpc.settings.update.mutate({ retentionDays: 2 });
        try {
          expect(await deletedPush(old)).toMatchObject({ kind: 'deleted', job: { id: old } });
          expect(await db.job.count({ where: { id: old } })).toBe(0);
        } finally {
          await chorus.client.trpc.settings.update.mutate({ retentionDays: 0 });
        }
      } finally {
        sub.unsubscribe();
        asViewer.close();
      }
    });
  });

  describe('enum errors say what is accepted without echoing the value', () => {
    const hostile = '<img src=x onerror=alert(1)>';

    it('an unknown mode', async () => {
      const res = await fetch(`${chorus.h.url}/trpc/job.create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(chorus.h.token) },
        body: JSON.stringify({ mode: hostile, text: 'Hi.' }),
      });
      expect(res.status).toBe(400);
      const text = await res.text();
      expect(text).not.toContain('onerror');
      expect((JSON.parse(text) as { error: { message: string } }).error.message).toBe('mode: Unknown mode; accepted modes: zero_shot, cross_lingual, instruct, pretrained.');
    });

    it('an unknown status filter and a malformed lastEventId', async () => {
      const list = await fetch(`${chorus.h.url}/trpc/job.list?input=${encodeURIComponent(JSON.stringify({ status: hostile }))}`, { headers: bearer(chorus.h.token) });
      expect(list.status).toBe(400);
      const listText = await list.text();
      expect(listText).not.toContain('onerror');
      expect(listText).toMatch(/queued.*running.*succeeded.*failed.*canceled/);

      const job = await finishedJob(chorus.client, (await uploadReference(chorus.h.url, chorus.h.token, wav(269))).id, 'Events.');
      const answer = await new Promise<{ status?: number; message?: string }>((resolve, reject) => {
        const ws = new WebSocket(`${chorus.h.url.replace('http', 'ws')}/trpc?connectionParams=1`);
        ws.once('error', reject);
        ws.once('open', () => {
          ws.send(JSON.stringify({ method: 'connectionParams', data: { token: chorus.h.token } }));
          ws.send(JSON.stringify({ id: 1, method: 'subscription', params: { path: 'job.events', input: { id: job, lastEventId: '<svg onload=1>' } } }));
        });
        ws.on('message', (data: Buffer) => {
          const msg = JSON.parse(data.toString()) as { error?: { message: string; data?: { httpStatus?: number } } };
          if (msg.error) {
            resolve({ status: msg.error.data?.httpStatus, message: msg.error.message });
            ws.terminate();
          }
        });
      });
      expect(answer).toEqual({ status: 400, message: 'lastEventId must be the seq of an event of this job (a non-negative integer).' });
    });
  });
});
