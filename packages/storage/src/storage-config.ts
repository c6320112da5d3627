import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

export interface LocalStorageConfig {
  kind: 'local';
  /** Absolute directory that holds the objects. */
  dir: string;
  /** Named by CHORUS_STORAGE_URL (perhaps a volume several servers mount), not the data directory itself. */
  shared: boolean;
}

export interface S3StorageConfig {
  kind: 's3';
  bucket: string;
  /** Key prefix without a trailing "/", or ''. */
  prefix: string;
  /** scheme://host[:port] of an S3-compatible server, or null for AWS. */
  endpoint: string | null;
  region: string;
  forcePathStyle: boolean;
  /** From the environment; null lets the AWS SDK's own chain find them (AWS_PROFILE, SSO, instance role). */
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } | null;
}

export type StorageConfig = LocalStorageConfig | S3StorageConfig;

/** A storage setting that cannot work; the message names the variable, what was wrong and what is accepted. */
export class StorageConfigError extends Error {
  override readonly name = 'StorageConfigError';
}

const optional = z.string().trim().optional().transform((v) => (v === '' ? undefined : v));
const storageEnvSchema = z.object({
  CHORUS_STORAGE_URL: optional,
  CHORUS_S3_ENDPOINT: optional,
  CHORUS_S3_REGION: optional,
  CHORUS_S3_FORCE_PATH_STYLE: optional,
  AWS_REGION: optional,
  AWS_DEFAULT_REGION: optional,
  AWS_ACCESS_KEY_ID: optional,
  AWS_SECRET_ACCESS_KEY: optional,
  AWS_SESSION_TOKEN: optional,
});

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const PREFIX_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const REGION = /^[a-z0-9-]{2,40}$/;
const ACCEPTED_URLS = 'unset (files under CHORUS_DATA_DIR), s3://bucket or s3://bucket/key/prefix, or file:///absolute/directory';

function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/?#]*)(\/[^?#]*)?$/.exec(url);
  if (!m) throw new StorageConfigError(`CHORUS_STORAGE_URL "${url}" is not a valid s3:// URL (no query string, no "#"). Accepted: ${ACCEPTED_URLS}.`);
  const bucket = m[1] ?? '';
  if (!BUCKET.test(bucket) || bucket.includes('..')) {
    throw new StorageConfigError(`CHORUS_STORAGE_URL: "${bucket}" is not a bucket name: 3-63 lowercase letters, digits, "." and "-", starting and ending with a letter or digit.`);
  }
  const segments = (m[2] ?? '').split('/').filter(Boolean);
  for (const segment of segments) {
    if (!PREFIX_SEGMENT.test(segment)) {
      throw new StorageConfigError(`CHORUS_STORAGE_URL: key prefix segment "${segment}" is not allowed: segments start with a letter or digit and use letters, digits, ".", "_" and "-".`);
    }
  }
  return { bucket, prefix: segments.join('/') };
}

function parseEndpoint(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new StorageConfigError(`CHORUS_S3_ENDPOINT "${value}" is not a URL; expected http(s)://host[:port], e.g. http://127.0.0.1:9000.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new StorageConfigError(`CHORUS_S3_ENDPOINT must start with http:// or https://, not ${url.protocol}//.`);
  if (url.username || url.password) throw new StorageConfigError('CHORUS_S3_ENDPOINT must not hold credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY instead.');
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new StorageConfigError(`CHORUS_S3_ENDPOINT "${value}" has a path or query; expected only http(s)://host[:port] (the bucket goes in CHORUS_STORAGE_URL).`);
  }
  return url.origin;
}

/**
 * Where uploads and job audio are stored, from the environment: CHORUS_STORAGE_URL unset
 * means files under the data directory (the embedded default); `s3://bucket/prefix` means
 * S3 (CHORUS_S3_ENDPOINT for an S3-compatible server, CHORUS_S3_REGION, the standard AWS
 * credential variables); `file:///dir` means another directory, e.g. a shared volume.
 */
export function storageConfigFromEnv(env: NodeJS.ProcessEnv, dataDir: string): StorageConfig {
  const e = storageEnvSchema.parse(env);
  const url = e.CHORUS_STORAGE_URL;
  const s3Only = (['CHORUS_S3_ENDPOINT', 'CHORUS_S3_REGION', 'CHORUS_S3_FORCE_PATH_STYLE'] as const).filter((name) => e[name] !== undefined);
  if (!url?.startsWith('s3://') && s3Only.length > 0) {
    throw new StorageConfigError(`${s3Only.join(', ')} ${s3Only.length === 1 ? 'is' : 'are'} set, but CHORUS_STORAGE_URL is not an s3:// URL; set CHORUS_STORAGE_URL=s3://bucket/prefix or unset ${s3Only.length === 1 ? 'it' : 'them'}.`);
  }
  if (url === undefined) return { kind: 'local', dir: path.resolve(dataDir), shared: false };
  if (url.startsWith('file:')) {
    let dir: string;
    try {
      if (!url.startsWith('file:///')) throw new Error('not absolute');
      dir = fileURLToPath(url);
    } catch {
      throw new StorageConfigError(`CHORUS_STORAGE_URL "${url}" is not an absolute file URL; expected file:///absolute/directory.`);
    }
    return { kind: 'local', dir: path.resolve(dir), shared: true };
  }
  if (!url.startsWith('s3://')) throw new StorageConfigError(`CHORUS_STORAGE_URL "${url}" is not supported. Accepted: ${ACCEPTED_URLS}.`);

  const { bucket, prefix } = parseS3Url(url);
  const endpoint = e.CHORUS_S3_ENDPOINT === undefined ? null : parseEndpoint(e.CHORUS_S3_ENDPOINT);
  const region = e.CHORUS_S3_REGION ?? e.AWS_REGION ?? e.AWS_DEFAULT_REGION ?? 'us-east-1';
  if (!REGION.test(region)) throw new StorageConfigError(`CHORUS_S3_REGION "${region}" is not a region name such as us-east-1 or eu-central-1.`);
  const pathStyle = e.CHORUS_S3_FORCE_PATH_STYLE;
  if (pathStyle !== undefined && pathStyle !== 'true' && pathStyle !== 'false') {
    throw new StorageConfigError(`CHORUS_S3_FORCE_PATH_STYLE must be true or false, not "${pathStyle}".`);
  }
  if ((e.AWS_ACCESS_KEY_ID === undefined) !== (e.AWS_SECRET_ACCESS_KEY === undefined)) {
    throw new StorageConfigError('Set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither (then the AWS SDK looks for AWS_PROFILE, SSO or an instance role).');
  }
  if (e.AWS_SESSION_TOKEN !== undefined && e.AWS_ACCESS_KEY_ID === undefined) {
    throw new StorageConfigError('AWS_SESSION_TOKEN is set without AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.');
  }
  return {
    kind: 's3',
    bucket,
    prefix,
    endpoint,
    region,
    // Local S3-compatible servers rarely resolve bucket.host names; AWS prefers virtual-hosted style.
    forcePathStyle: pathStyle === undefined ? endpoint !== null : pathStyle === 'true',
    credentials:
      e.AWS_ACCESS_KEY_ID !== undefined && e.AWS_SECRET_ACCESS_KEY !== undefined
        ? { accessKeyId: e.AWS_ACCESS_KEY_ID, secretAccessKey: e.AWS_SECRET_ACCESS_KEY, ...(e.AWS_SESSION_TOKEN ? { sessionToken: e.AWS_SESSION_TOKEN } : {}) }
        : null,
  };
}
