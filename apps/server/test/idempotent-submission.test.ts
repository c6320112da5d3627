import { openDb, type Db } from '@chorus/db';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addPerson, bearer, collectEvents, connectClient, useChorus, refusal } from './support/harness.ts';

describe('job.create and job.rerun with a client request id', () => {
  const chorus = useChorus();
  let db: Db;
  beforeAll(async () => {
    db = await openDb(chorus.h.databaseUrl);
  });
  afterAll(async () => db?.$disconnect());

  const request = (clientRequestId: string, text = 'Said once, whatever the network does.') => ({
    mode: 'cross_lingual' as const,
    text,
    promptUploadId: chorus.uploadId,
    clientRequestId,
  });

  it('the same request again (a retry after a lost answer) returns the same job and creates no other', async () => {
    const before = await db.job.count();
    const first = await chorus.client.trpc.job.create.mutate(request('retry-after-lost-answer-1'));
    const again = await chorus.client.trpc.job.create.mutate(request('retry-after-lost-answer-1'));
    expect(again.id).toBe(first.id);
    expect(again.seed).toBe(first.seed);
    expect(await db.job.count()).toBe(before + 1);
    // Over plain HTTP too, after the job has finished: still the same job.
    await collectEvents(chorus.client, first.id).done;
    const res = await fetch(`${chorus.h.url}/trpc/job.create`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(chorus.h.token) },
      body: JSON.stringify(request('retry-after-lost-answer-1')),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { result: { data: { id: string; status: string } } }).result.data).toMatchObject({ id: first.id, status: 'succeeded' });
    expect(await db.job.count()).toBe(before + 1);
  });

  it('parallel copies of one request make one job', async () => {
    const before = await db.job.count();
    const answers = await Promise.all(Array.from({ length: 6 }, () => chorus.client.trpc.job.create.mutate(request('parallel-copies-0001'))));
    expect(new Set(answers.map((a) => a.id)).size).toBe(1);
    expect(await db.job.count()).toBe(before + 1);
  });

  it('the same id with other inputs is refused with 409 and creates nothing', async () => {
    const first = await chorus.client.trpc.job.create.mutate(request('reused-for-a-new-job'));
    const before = await db.job.count();
    const err = await refusal(chorus.client.trpc.job.create.mutate(request('reused-for-a-new-job', 'Different words.')));
    expect(err.data).toMatchObject({ code: 'CONFLICT', httpStatus: 409 });
    expect(err.message).toBe(`clientRequestId "reused-for-a-new-job" was already used for job "${first.id}" with other inputs; send a new clientRequestId for a new job.`);
    expect(await db.job.count()).toBe(before);
  });

  it('ids are per person: a teammate using the same id gets a job of their own', async () => {
    const member = await addPerson(chorus.h, 'member');
    const asMember = connectClient(chorus.h.url, member.token);
    try {
      const mine = await chorus.client.trpc.job.create.mutate({ mode: 'pretrained', text: 'Mine.', speakerId: 'zh-female', clientRequestId: 'shared-request-id-1' });
      const theirs = await asMember.trpc.job.create.mutate({ mode: 'pretrained', text: 'Mine.', speakerId: 'zh-female', clientRequestId: 'shared-request-id-1' });
      expect(theirs.id).not.toBe(mine.id);
      expect((await db.job.findUniqueOrThrow({ where: { id: theirs.id } })).createdById).toBe(member.id);
    } finally {
      asMember.close();
    }
  });

  it('a re-run with a new random seed, sent twice, is one re-run', async () => {
    const parent = await chorus.client.trpc.job.create.mutate({ mode: 'pretrained', text: 'Parent.', speakerId: 'zh-female' });
    const first = await chorus.client.trpc.job.rerun.mutate({ id: parent.id, seed: 'random', clientRequestId: 'rerun-random-seed-1' });
    const again = await chorus.client.trpc.job.rerun.mutate({ id: parent.id, seed: 'random', clientRequestId: 'rerun-random-seed-1' });
    expect(again).toMatchObject({ id: first.id, seed: first.seed });
    expect(await db.job.count({ where: { parentId: parent.id } })).toBe(1);
    // The same id for a create is another request: refused, not confused with the re-run.
    const err = await refusal(chorus.client.trpc.job.create.mutate({ mode: 'pretrained', text: 'Parent.', speakerId: 'zh-female', clientRequestId: 'rerun-random-seed-1' }));
    expect(err.data).toMatchObject({ code: 'CONFLICT' });
  });

  it('a retried submission does not count against the jobs-per-minute limit', async () => {
    const member = await addPerson(chorus.h, 'member');
    const asMember = connectClient(chorus.h.url, member.token);
    await chorus.client.trpc.settings.update.mutate({ jobsPerMinute: 1 });
    try {
      const job = { mode: 'pretrained' as const, text: 'Limited.', speakerId: 'zh-female' };
      const first = await asMember.trpc.job.create.mutate({ ...job, clientRequestId: 'limited-request-1' });
      expect((await asMember.trpc.job.create.mutate({ ...job, clientRequestId: 'limited-request-1' })).id).toBe(first.id);
      const err = await refusal(asMember.trpc.job.create.mutate({ ...job, clientRequestId: 'limited-request-2' }));
      expect(err.data).toMatchObject({ code: 'TOO_MANY_REQUESTS' });
    } finally {
      await chorus.client.trpc.settings.update.mutate({ jobsPerMinute: 30 });
      asMember.close();
    }
  });

  it('a malformed id gets a 400 that says what an id looks like', async () => {
    for (const bad of ['short', 'x'.repeat(65), 'has spaces in it', 'emoji-😀-inside', '\ud800-lone-surrogate']) {
      const err = await refusal(chorus.client.trpc.job.create.mutate(request(bad)));
      expect(err.data).toMatchObject({ code: 'BAD_REQUEST' });
      expect(err.message).toBe('clientRequestId: clientRequestId must be 8 to 64 letters, digits, "-" or "_" (a UUID works).');
    }
  });
});
