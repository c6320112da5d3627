/// <reference path="./s3rver.d.ts" />
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import S3rver from '@20minutes/s3rver';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';

/**
 * A local S3-compatible server for tests: @20minutes/s3rver (MIT), a stand-in for real S3
 * (AWS, MinIO, Ceph…), which cannot run here. It keeps objects in a temporary directory
 * removed on close. Two ways it differs from S3, and what the tests do about it:
 * - It computes SigV4 signatures over a bucket's path without the trailing "/" the AWS SDK
 *   signs, so bucket requests (ListObjectsV2, HeadBucket) would fail the check: signatures
 *   are not verified (the access key must still be known). Signing is the SDK's job, not ours.
 * - It has no ListMultipartUploads, so sweeping unfinished multipart uploads reports
 *   "cannot list" (null) against it.
 */
export interface S3StandIn {
  endpoint: string;
  bucket: string;
  /** Credentials the stand-in accepts. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Environment for a Chorus server using this bucket under `prefix`. */
  env(prefix?: string): Record<string, string>;
  /** Every key in the bucket, read with a plain S3 client (not through Chorus's store). */
  keys(): Promise<string[]>;
  close(): Promise<void>;
}

export async function startS3StandIn(bucket = 'chorus-test'): Promise<S3StandIn> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, allowMismatchedSignatures: true, vhostBuckets: false, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  return {
    endpoint,
    bucket,
    credentials,
    env: (prefix = '') => ({
      CHORUS_STORAGE_URL: `s3://${bucket}${prefix ? `/${prefix}` : ''}`,
      CHORUS_S3_ENDPOINT: endpoint,
      CHORUS_S3_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    }),
    async keys() {
      const keys: string[] = [];
      let ContinuationToken: string | undefined;
      do {
        const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken }));
        keys.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (ContinuationToken);
      return keys.sort();
    },
    async close() {
      client.destroy();
      await server.close();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}
