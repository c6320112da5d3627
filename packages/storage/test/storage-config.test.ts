import { describe, expect, it } from 'vitest';
import { storageConfigFromEnv, StorageConfigError } from '../src/index.ts';

const DATA = '/srv/chorus/data';
const refusal = (env: Record<string, string>): string => {
  try {
    storageConfigFromEnv(env, DATA);
  } catch (err) {
    expect(err).toBeInstanceOf(StorageConfigError);
    return (err as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be refused`);
};

describe('storage configuration from the environment', () => {
  it('unset (or empty): files under the data directory, the embedded default', () => {
    expect(storageConfigFromEnv({}, DATA)).toEqual({ kind: 'local', dir: DATA, shared: false });
    expect(storageConfigFromEnv({ CHORUS_STORAGE_URL: '' }, DATA)).toEqual({ kind: 'local', dir: DATA, shared: false });
  });

  it('file:///dir: another directory, e.g. a volume several servers share', () => {
    expect(storageConfigFromEnv({ CHORUS_STORAGE_URL: 'file:///mnt/shared/chorus' }, DATA)).toEqual({ kind: 'local', dir: '/mnt/shared/chorus', shared: true });
  });

  it('s3://bucket/prefix with an S3-compatible endpoint: path-style by default, credentials from the AWS variables', () => {
    expect(
      storageConfigFromEnv(
        { CHORUS_STORAGE_URL: 's3://chorus-audio/prod/eu/', CHORUS_S3_ENDPOINT: 'http://127.0.0.1:9000/', CHORUS_S3_REGION: 'eu-central-1', AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'secret' },
        DATA,
      ),
    ).toEqual({
      kind: 's3',
      bucket: 'chorus-audio',
      prefix: 'prod/eu',
      endpoint: 'http://127.0.0.1:9000',
      region: 'eu-central-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
    });
  });

  it('AWS itself: no endpoint, virtual-hosted style, region from AWS_REGION, credentials left to the SDK chain', () => {
    expect(storageConfigFromEnv({ CHORUS_STORAGE_URL: 's3://chorus-audio', AWS_REGION: 'us-west-2', AWS_PROFILE: 'chorus' }, DATA)).toEqual({
      kind: 's3',
      bucket: 'chorus-audio',
      prefix: '',
      endpoint: null,
      region: 'us-west-2',
      forcePathStyle: false,
      credentials: null,
    });
    expect(storageConfigFromEnv({ CHORUS_STORAGE_URL: 's3://chorus-audio', CHORUS_S3_FORCE_PATH_STYLE: 'true' }, DATA)).toMatchObject({ region: 'us-east-1', forcePathStyle: true });
  });

  it('refuses what cannot work, naming the variable and what is accepted', () => {
    expect(refusal({ CHORUS_STORAGE_URL: 'gs://bucket' })).toMatch(/CHORUS_STORAGE_URL "gs:\/\/bucket" is not supported\. Accepted: unset .*s3:\/\/bucket.*file:\/\/\//);
    expect(refusal({ CHORUS_STORAGE_URL: 's3://Bad_Bucket' })).toMatch(/"Bad_Bucket" is not a bucket name: 3-63 lowercase/);
    expect(refusal({ CHORUS_STORAGE_URL: 's3://ab' })).toMatch(/"ab" is not a bucket name/);
    expect(refusal({ CHORUS_STORAGE_URL: 's3://' })).toMatch(/"" is not a bucket name/);
    expect(refusal({ CHORUS_STORAGE_URL: 's3://bucket/../etc' })).toMatch(/key prefix segment "\.\." is not allowed/);
    expect(refusal({ CHORUS_STORAGE_URL: 's3://bucket/a b' })).toMatch(/key prefix segment "a b"/);
    expect(refusal({ CHORUS_STORAGE_URL: 's3://bucket?x=1' })).toMatch(/not a valid s3:\/\/ URL/);
    expect(refusal({ CHORUS_STORAGE_URL: 'file:relative/dir' })).toMatch(/not an absolute file URL/);
    expect(refusal({ CHORUS_STORAGE_URL: 's3://bucket', CHORUS_S3_ENDPOINT: 'localhost:9000' })).toMatch(/CHORUS_S3_ENDPOINT must start with http:\/\/ or https:\/\//);
    expect(refusal({ CHORUS_STORAGE_URL: 's3://bucket', CHORUS_S3_ENDPOINT: 'http://user:pw@minio:9000' })).toMatch(/must not hold credentials/);
    expect(refusal({ CHORUS_STORAGE_URL: 's3://bucket', CHORUS_S3_ENDPOINT: 'http://minio:9000/bucket' })).toMatch(/has a path or query/);
    expect(refusal({ CHORUS_STORAGE_URL: 's3://bucket', CHORUS_S3_ENDPOINT: 'not a url' })).toMatch(/is not a URL/);
    expect(refusal({ CHORUS_STORAGE_URL: 's3://bucket', CHORUS_S3_REGION: 'Europe' })).toMatch(/CHORUS_S3_REGION "Europe" is not a region name/);
    expect(refusal({ CHORUS_STORAGE_URL: 's3://bucket', CHORUS_S3_FORCE_PATH_STYLE: 'yes' })).toMatch(/CHORUS_S3_FORCE_PATH_STYLE must be true or false/);
    expect(refusal({ CHORUS_STORAGE_URL: 's3://bucket', AWS_ACCESS_KEY_ID: 'id' })).toMatch(/Set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither/);
    expect(refusal({ CHORUS_STORAGE_URL: 's3://bucket', AWS_SESSION_TOKEN: 't' })).toMatch(/AWS_SESSION_TOKEN is set without/);
    expect(refusal({ CHORUS_S3_ENDPOINT: 'http://127.0.0.1:9000' })).toMatch(/CHORUS_S3_ENDPOINT is set, but CHORUS_STORAGE_URL is not an s3:\/\/ URL/);
    expect(refusal({ CHORUS_STORAGE_URL: 'file:///x', CHORUS_S3_REGION: 'eu-west-1', CHORUS_S3_FORCE_PATH_STYLE: 'true' })).toMatch(/CHORUS_S3_REGION, CHORUS_S3_FORCE_PATH_STYLE are set/);
  });
});
