import { openDb, type Db } from '@chorus/db';
import { TRPCClientError } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, collectEvents, useChorus } from './support/harness.ts';

/** The tRPC error code the server put in the error's data. */
const errorCode = (err: unknown): string | undefined => (err as { data?: { code?: string } }).data?.code;

describe('bad input gets a precise error and writes nothing', () => {
  const chorus = useChorus();
  let db: Db;
  let maxChars: number;

  beforeAll(async () => {
    db = await openDb(chorus.h.databaseUrl);
    maxChars = (await chorus.client.trpc.engine.list.query())[0]!.limits.maxTextChars;
  });
  afterAll(async () => {
    await db?.$disconnect();
  });

  const expectRejected = async (input: unknown, code: string, message: RegExp): Promise<void> => {
    const before = await db.job.count();
    const eventsBefore = await db.jobEvent.count();
    // The input is deliberately not of the declared type: the server must reject it.
    const err = await chorus.client.trpc.job.create.mutate(input as never).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TRPCClientError);
    const e = err as TRPCClientError<never>;
    expect(e.message).toMatch(message);
    expect(errorCode(e)).toBe(code);
    expect(await db.job.count()).toBe(before);
    expect(await db.jobEvent.count()).toBe(eventsBefore);
  };

  const zeroShot = () => ({ mode: 'zero_shot', text: 'Hello.', promptUploadId: chorus.uploadId, promptText: 'Reference.' });

  it('empty or whitespace-only text', async () => {
    await expectRejected({ ...zeroShot(), text: '' }, 'BAD_REQUEST', /Text is empty/);
    await expectRejected({ ...zeroShot(), text: ' \n\t ' }, 'BAD_REQUEST', /Text is empty/);
  });
  it('text over the engine limit says the limit', async () => {
    await expectRejected({ ...zeroShot(), text: 'a'.repeat(maxChars + 1) }, 'BAD_REQUEST', new RegExp(`${maxChars + 1} characters; the limit .* is ${maxChars}`));
  });
  it('unknown mode lists the accepted modes', async () => {
    await expectRejected({ ...zeroShot(), mode: 'karaoke' }, 'BAD_REQUEST', /mode: Unknown mode; accepted modes: zero_shot, cross_lingual, instruct, pretrained/);
  });
  it('a mode’s missing field', async () => {
    await expectRejected({ mode: 'zero_shot', text: 'Hi.', promptText: 'x' }, 'BAD_REQUEST', /needs reference audio/);
    await expectRejected({ mode: 'zero_shot', text: 'Hi.', promptUploadId: chorus.uploadId }, 'BAD_REQUEST', /needs promptText/);
    await expectRejected({ mode: 'cross_lingual', text: 'Hi.' }, 'BAD_REQUEST', /Cross-lingual cloning needs reference audio/);
    await expectRejected({ mode: 'instruct', text: 'Hi.', promptUploadId: chorus.uploadId }, 'BAD_REQUEST', /Instruct mode needs an instruction/);
    await expectRejected({ mode: 'instruct', text: 'Hi.', promptUploadId: chorus.uploadId, instruct: '   ' }, 'BAD_REQUEST', /Instruct mode needs an instruction/);
    await expectRejected({ mode: 'pretrained', text: 'Hi.' }, 'BAD_REQUEST', /needs speakerId; available speakers: /);
    await expectRejected({ mode: 'pretrained', text: 'Hi.', speakerId: 'nobody' }, 'BAD_REQUEST', /Unknown speaker "nobody".*available speakers: /);
  });
  it('an upload id that does not exist', async () => {
    await expectRejected({ ...zeroShot(), promptUploadId: 'upl_missing' }, 'BAD_REQUEST', /Upload "upl_missing" does not exist/);
  });
  it('a seed that is not an integer in range says the range', async () => {
    for (const seed of [-1, 1.5, 2 ** 32, 'abc', Number.NaN]) {
      await expectRejected({ ...zeroShot(), seed }, 'BAD_REQUEST', /seed: Seed must be an integer from 0 to 4294967295/);
    }
  });
  it('speed outside 0.5–2.0', async () => {
    await expectRejected({ ...zeroShot(), speed: 0.4 }, 'BAD_REQUEST', /speed: Speed must be from 0.5 to 2/);
    await expectRejected({ ...zeroShot(), speed: 2.5 }, 'BAD_REQUEST', /speed: Speed must be from 0.5 to 2/);
  });
  it('a job id that does not exist is NOT_FOUND everywhere', async () => {
    const missing = 'job_00000000000000000000000000';
    for (const call of [
      () => chorus.client.trpc.job.get.query({ id: missing }),
      () => chorus.client.trpc.job.cancel.mutate({ id: missing }),
      () => chorus.client.trpc.job.rerun.mutate({ id: missing }),
      () => chorus.client.trpc.job.delete.mutate({ id: missing }),
    ]) {
      const err = (await call().catch((e: unknown) => e)) as TRPCClientError<never>;
      expect(err).toBeInstanceOf(TRPCClientError);
      expect(err.message).toBe(`Job "${missing}" does not exist.`);
      expect(errorCode(err)).toBe('NOT_FOUND');
    }
    const audio = await fetch(`${chorus.h.url}/api/jobs/${missing}/audio`, { headers: bearer(chorus.h.token) });
    expect(audio.status).toBe(404);
  });
  it('a malformed job id (lone surrogate, NUL, 10 kB, wrong shape) is a 400 that says what an id looks like', async () => {
    for (const id of ['\ud800', 'job_\u0000', 'x'.repeat(10_000), 'job_nope', '']) {
      for (const call of [() => chorus.client.trpc.job.get.query({ id }), () => chorus.client.trpc.job.cancel.mutate({ id })]) {
        const err = (await call().catch((e: unknown) => e)) as TRPCClientError<never>;
        expect(errorCode(err)).toBe('BAD_REQUEST');
        expect(err.message).toMatch(/A job id is "job_" followed by 26 lower-case letters and digits/);
      }
    }
    const audio = await fetch(`${chorus.h.url}/api/jobs/job_nope/audio`, { headers: bearer(chorus.h.token) });
    expect(audio.status).toBe(400);
  });
  it('a lone surrogate in a text field is a 400 naming the field', async () => {
    for (const [field, value] of [['text', 'Hi \ud800'], ['promptText', '\udc00'], ['instruct', 'a\ud800b']] as const) {
      const mode = field === 'instruct' ? 'instruct' : 'zero_shot';
      await expectRejected({ ...zeroShot(), mode, instruct: 'gently', [field]: value }, 'BAD_REQUEST', /unpaired UTF-16 surrogate/);
    }
    const err = (await chorus.client.trpc.job.list.query({ cursor: '\ud800' }).catch((e: unknown) => e)) as TRPCClientError<never>;
    expect(errorCode(err)).toBe('BAD_REQUEST');
  });
  it('cancelling a finished job says why and changes nothing', async () => {
    const created = await chorus.client.trpc.job.create.mutate({ mode: 'zero_shot', text: 'Done soon.', promptUploadId: chorus.uploadId, promptText: 'Reference.' });
    await collectEvents(chorus.client, created.id).done;
    const before = await db.job.findUniqueOrThrow({ where: { id: created.id } });
    const err = (await chorus.client.trpc.job.cancel.mutate({ id: created.id }).catch((e: unknown) => e)) as TRPCClientError<never>;
    expect(err.message).toBe(`Job "${created.id}" already succeeded; only queued or running jobs can be canceled.`);
    expect(errorCode(err)).toBe('PRECONDITION_FAILED');
    expect(await db.job.findUniqueOrThrow({ where: { id: created.id } })).toEqual(before);
  });
  it('the list and events inputs are validated too', async () => {
    const err = (await chorus.client.trpc.job.list.query({ limit: 500 }).catch((e: unknown) => e)) as TRPCClientError<never>;
    expect(err.message).toMatch(/limit: limit must be 1–100/);
  });
});
