import { CreateMultipartUploadCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openObjectStore, readObject, StorageError, storageConfigFromEnv, type S3StorageConfig } from '../src/index.ts';
import { S3ObjectStore } from '../src/s3-object-store.ts';
import { startS3StandIn, type S3StandIn } from '../src/testing/index.ts';
import { describeObjectStoreContract } from './object-store-contract.ts';

/**
 * The S3 store against a local S3-compatible server started here (@20minutes/s3rver): a
 * stand-in for real S3, which this machine cannot reach. What the stand-in does not do (verify
 * signatures, list unfinished multipart uploads) is said in src/testing/s3-stand-in.ts.
 */
let s3: S3StandIn;
beforeAll(async () => {
  s3 = await startS3StandIn();
});
afterAll(async () => {
  await s3?.close();
});

const configFor = (prefix: string): S3StorageConfig => {
  const config = storageConfigFromEnv(s3.env(prefix), '/unused');
  if (config.kind !== 's3') throw new Error('expected an S3 configuration');
  return config;
};

let n = 0;
describeObjectStoreContract('S3 (local stand-in server)', async () => {
  const prefix = `contract-${++n}/chorus`;
  const store = await openObjectStore(configFor(prefix));
  return {
    store,
    raw: async () => (await s3.keys()).filter((k) => k.startsWith(`${prefix}/`)).map((k) => k.slice(prefix.length + 1)),
    cleanup: () => store.close(),
  };
});

describe('S3 store', () => {
  it('keeps objects under its key prefix, and a store without a prefix at the bucket root', async () => {
    const prefixed = await openObjectStore(configFor('team-a'));
    const bare = await openObjectStore(configFor(''));
    try {
      await prefixed.put('uploads/aa.wav', Buffer.from('a'));
      await bare.put('outputs/job_b.wav', Buffer.from('b'));
      const keys = await s3.keys();
      expect(keys).toContain('team-a/uploads/aa.wav');
      expect(keys).toContain('outputs/job_b.wav');
      // Each store sees only its own objects.
      const seen: string[] = [];
      for await (const o of prefixed.list('')) seen.push(o.key);
      expect(seen).toEqual(['uploads/aa.wav']);
      expect((await readObject(prefixed, 'uploads/aa.wav')).toString()).toBe('a');
      expect(await bare.stat('uploads/aa.wav')).toBeNull();
    } finally {
      await prefixed.remove('uploads/aa.wav');
      await bare.remove('outputs/job_b.wav');
      await prefixed.close();
      await bare.close();
    }
  });

  it('names itself in logs without the secret', async () => {
    const store = await openObjectStore(configFor('logs'));
    try {
      expect(store.location).toBe(`s3://${s3.bucket}/logs at ${s3.endpoint} (us-east-1)`);
      expect(store.location).not.toContain(s3.credentials.secretAccessKey);
    } finally {
      await store.close();
    }
  });

  it('refuses at start a bucket that does not exist, wrong credentials, and an endpoint nobody answers, saying which', async () => {
    const missing = { ...configFor(''), bucket: 'no-such-bucket' };
    await expect(openObjectStore(missing)).rejects.toThrow(/no-such-bucket.*the bucket does not exist/);
    await expect(openObjectStore({ ...configFor(''), credentials: { accessKeyId: 'WRONG', secretAccessKey: 'WRONG' } })).rejects.toThrow(/access denied: check AWS_ACCESS_KEY_ID/);
    // A closed port on this machine: refused at once.
    const closed = await openObjectStore({ ...configFor(''), endpoint: 'http://127.0.0.1:9' }).catch((err: unknown) => err);
    expect(closed).toBeInstanceOf(StorageError);
    expect((closed as Error).message).toMatch(/127\.0\.0\.1:9.*cannot reach it/);
  });

  it('reports that the stand-in cannot list unfinished multipart uploads (a bucket lifecycle rule must abort them)', async () => {
    const store = new S3ObjectStore(configFor('mpu'));
    const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: s3.credentials });
    try {
      // A multipart upload a killed server never completed: invisible, but it costs storage until aborted.
      await client.send(new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: 'mpu/uploads/half.wav' }));
      expect(await store.removeInterruptedPuts(new Date(Date.now() + 60_000))).toBeNull();
      expect(await store.stat('uploads/half.wav')).toBeNull();
    } finally {
      client.destroy();
      await store.close();
    }
  });
});
