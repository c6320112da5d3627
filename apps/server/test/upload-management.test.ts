import fs from 'node:fs';
import path from 'node:path';
import { sweepRetention, type StoredFiles } from '@chorus/api';
import { openDb, type Db } from '@chorus/db';
import { InProcessEventBus } from '@chorus/inference';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { voicedWav } from './helpers/audio.ts';
import { addPerson, bearer, collectEvents, connectClient, uploadReference, useChorus, type Client, refusal } from './support/harness.ts';

const voice = (f0: number): Uint8Array => voicedWav({ sampleRate: 24000, seconds: 3, f0 });


describe('people list and delete the reference audio they uploaded', () => {
  const chorus = useChorus();
  let db: Db;
  let dataDir: string;
  beforeAll(async () => {
    db = await openDb(chorus.h.databaseUrl);
    dataDir = path.join(chorus.h.dir, 'data');
  });
  afterAll(async () => db?.$disconnect());

  const onDisk = (p: string): boolean => fs.existsSync(path.join(dataDir, p));
  const finishedJob = async (client: Client, promptUploadId: string): Promise<string> => {
    const job = await client.trpc.job.create.mutate({ mode: 'cross_lingual', text: 'Done.', promptUploadId });
    await collectEvents(client, job.id).done;
    return job.id;
  };

  it('lists one’s own uploads with their use and size; only admins see others’', async () => {
    const ana = await addPerson(chorus.h, 'member');
    const bo = await addPerson(chorus.h, 'member');
    const asAna = connectClient(chorus.h.url, ana.token);
    const asBo = connectClient(chorus.h.url, bo.token);
    try {
      const used = await uploadReference(chorus.h.url, ana.token, voice(131));
      const unused = await uploadReference(chorus.h.url, ana.token, voice(137));
      await finishedJob(asAna, used.id);
      const mine = await asAna.trpc.upload.list.query({});
      expect(mine.items.map((u) => [u.id, u.jobs])).toEqual([
        [unused.id, 0],
        [used.id, 1],
      ]);
      const row = await db.upload.findUniqueOrThrow({ where: { id: unused.id } });
      const pcm = fs.statSync(path.join(dataDir, row.pcmPath)).size;
      expect(mine.items[0]).toMatchObject({ storedBytes: row.sizeBytes + pcm, uploadedBy: { id: ana.id }, format: 'wav', durationMs: 3000 });
      expect((await asBo.trpc.upload.list.query({})).items).toEqual([]);
      const err = await refusal(asBo.trpc.upload.list.query({ uploadedBy: ana.id }));
      expect(err.data).toMatchObject({ code: 'FORBIDDEN' });
      expect(err.message).toBe(`Only admins may list other people's uploads; you are a member. Use uploadedBy: "mine".`);
      expect((await chorus.client.trpc.upload.list.query({ uploadedBy: ana.id })).items.map((u) => u.id)).toEqual([unused.id, used.id]);
    } finally {
      asAna.close();
      asBo.close();
    }
  });

  it('deletes an unused upload with its files; refuses one a job uses, and someone else’s', async () => {
    const cy = await addPerson(chorus.h, 'member');
    const dee = await addPerson(chorus.h, 'member');
    const asCy = connectClient(chorus.h.url, cy.token);
    const asDee = connectClient(chorus.h.url, dee.token);
    try {
      const used = await uploadReference(chorus.h.url, cy.token, voice(141));
      const unused = await uploadReference(chorus.h.url, cy.token, voice(143));
      const job = await finishedJob(asCy, used.id);
      const row = await db.upload.findUniqueOrThrow({ where: { id: unused.id } });

      const foreign = await refusal(asDee.trpc.upload.delete.mutate({ id: unused.id }));
      expect(foreign.data).toMatchObject({ code: 'FORBIDDEN' });
      expect(foreign.message).toBe(`Only the person who sent upload "${unused.id}" or an admin may delete it.`);

      const inUse = await refusal(asCy.trpc.upload.delete.mutate({ id: used.id }));
      expect(inUse.data).toMatchObject({ code: 'CONFLICT', httpStatus: 409 });
      expect(inUse.message).toBe(`Upload "${used.id}" is the reference audio of 1 job; delete that job first (re-runs need the voice).`);
      expect(await db.upload.count({ where: { id: used.id } })).toBe(1);

      expect(await asCy.trpc.upload.delete.mutate({ id: unused.id })).toEqual({ id: unused.id, deleted: true });
      expect(await db.upload.count({ where: { id: unused.id } })).toBe(0);
      expect(onDisk(row.originalPath) || onDisk(row.pcmPath)).toBe(false);
      expect(await db.auditEntry.count({ where: { action: 'upload.deleted', targetId: unused.id, actorId: cy.id } })).toBe(1);
      const gone = await refusal(asCy.trpc.upload.delete.mutate({ id: unused.id }));
      expect(gone.data).toMatchObject({ code: 'NOT_FOUND' });

      // After its job is deleted the voice goes with it; an admin may delete anyone's unused upload.
      await asCy.trpc.job.delete.mutate({ id: job });
      expect(await db.upload.count({ where: { id: used.id } })).toBe(0);
      const deeVoice = await uploadReference(chorus.h.url, dee.token, voice(147));
      await chorus.client.trpc.upload.delete.mutate({ id: deeVoice.id });
      expect(await db.upload.count({ where: { id: deeVoice.id } })).toBe(0);
    } finally {
      asCy.close();
      asDee.close();
    }
  });

  it('a shared recording keeps its files until the last sender deletes theirs', async () => {
    const ed = await addPerson(chorus.h, 'member');
    const flo = await addPerson(chorus.h, 'member');
    const bytes = voice(151);
    const eds = await uploadReference(chorus.h.url, ed.token, bytes);
    const flos = await uploadReference(chorus.h.url, flo.token, bytes);
    const row = await db.upload.findUniqueOrThrow({ where: { id: eds.id } });
    const asEd = connectClient(chorus.h.url, ed.token);
    const asFlo = connectClient(chorus.h.url, flo.token);
    try {
      await asEd.trpc.upload.delete.mutate({ id: eds.id });
      expect(onDisk(row.originalPath) && onDisk(row.pcmPath)).toBe(true);
      await asFlo.trpc.upload.delete.mutate({ id: flos.id });
      expect(onDisk(row.originalPath) || onDisk(row.pcmPath)).toBe(false);
    } finally {
      asEd.close();
      asFlo.close();
    }
  });

  it('deleting frees quota, and someone made a viewer can still delete their voice', async () => {
    const gus = await addPerson(chorus.h, 'member');
    const first = voice(157);
    const post = (bytes: Uint8Array): Promise<Response> =>
      fetch(`${chorus.h.url}/api/uploads`, { method: 'POST', body: bytes, headers: { 'content-type': 'audio/wav', ...bearer(gus.token) } });
    await chorus.client.trpc.settings.update.mutate({ uploadBytesPerMember: first.length * 3 });
    try {
      const kept = (await (await post(first)).json()) as { id: string };
      expect((await post(voice(163))).status).toBe(429);
      await chorus.client.trpc.members.setRole.mutate({ userId: gus.id, role: 'viewer' });
      const asGus = connectClient(chorus.h.url, gus.token);
      try {
        await asGus.trpc.upload.delete.mutate({ id: kept.id });
      } finally {
        asGus.close();
      }
      await chorus.client.trpc.members.setRole.mutate({ userId: gus.id, role: 'member' });
      expect((await post(voice(163))).status).toBe(201);
    } finally {
      await chorus.client.trpc.settings.update.mutate({ uploadBytesPerMember: 500 * 1024 * 1024 });
    }
  });

  it('retention removes uploads no job used once they are older than the retention period', async () => {
    const hal = await addPerson(chorus.h, 'member');
    const old = await uploadReference(chorus.h.url, hal.token, voice(167));
    const recent = await uploadReference(chorus.h.url, hal.token, voice(173));
    const usedOld = await uploadReference(chorus.h.url, hal.token, voice(179));
    const asHal = connectClient(chorus.h.url, hal.token);
    try {
      // A running job keeps its upload, however old; the sweep only takes finished jobs and unused uploads.
      await asHal.trpc.job.create.mutate({ mode: 'cross_lingual', text: 'Still needs its voice.', promptUploadId: usedOld.id });
    } finally {
      asHal.close();
    }
    const longAgo = new Date(Date.now() - 40 * 24 * 3600_000);
    await db.upload.updateMany({ where: { id: { in: [old.id, usedOld.id] } }, data: { createdAt: longAgo } });
    await db.job.updateMany({ where: { promptUploadId: usedOld.id }, data: { status: 'running', finishedAt: null } });
    await chorus.client.trpc.settings.update.mutate({ retentionDays: 30 });
    try {
      const files: StoredFiles = { remove: (p) => fs.promises.rm(path.join(dataDir, p), { force: true }) };
      await sweepRetention(db, files, new InProcessEventBus());
      const left = (await db.upload.findMany({ where: { uploadedById: hal.id }, select: { id: true } })).map((u) => u.id).sort();
      expect(left).toEqual([recent.id, usedOld.id].sort());
      const audit = await db.auditEntry.findFirstOrThrow({ where: { action: 'retention.deleted' }, orderBy: { id: 'desc' } });
      expect(audit.detail).toMatchObject({ uploads: 1, olderThanDays: 30 });
    } finally {
      await chorus.client.trpc.settings.update.mutate({ retentionDays: 0 });
    }
  });

  it('a malformed upload id gets a 400 that says what an id looks like', async () => {
    const err = await refusal(chorus.client.trpc.upload.delete.mutate({ id: 'upl_short' }));
    expect(err.data).toMatchObject({ code: 'BAD_REQUEST' });
    expect(err.message).toBe('id: Upload id must be "upl_" followed by 26 lower-case letters and digits.');
  });
});
