import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KeyedLock, loadSettings, newId, pcmCopyBytes, storedUploadBytes, uploadFilesLock, type Identity } from '@chorus/api';
import {
  uploadFormatSchema,
  uploadWarningSchema,
  type EngineLimits,
  type UploadErrorCode,
  type UploadResult,
  type UploadWarning,
} from '@chorus/api/schemas';
import type { Db, Upload } from '@chorus/db';
import { encodeWav16, isAudioInputError, validatePromptAudio } from '@chorus/inference';
import type { ObjectStore } from '@chorus/storage';
import type { Logger } from 'pino';
import { statusOf, type HttpAuthenticator } from '../auth/http-auth.ts';
import { sendJson } from './respond.ts';
import { ClientAbortedError, UploadRejection, declaredTooLarge, discardRestOfBody, readUploadBody, tooLarge } from './upload-body.ts';

export interface UploadHandlerDeps {
  db: Db;
  /** Files go to `uploads/` in the store; the DB stores their keys. */
  store: ObjectStore;
  maxBytes: number;
  limits: Pick<EngineLimits, 'promptMinMs' | 'promptMaxMs' | 'promptMinSampleRate' | 'promptPreferredSampleRate'>;
  authenticate: HttpAuthenticator;
  logger: Logger;
}

/** One member's uploads pass the limit check and the insert one at a time (in this process). */
const perMember = new KeyedLock();

function statusFor(code: UploadErrorCode): number {
  if (code === 'UNSUPPORTED_FORMAT') return 415;
  if (code === 'RATE_LIMITED' || code === 'QUOTA_EXCEEDED') return 429;
  if (code === 'TOO_LARGE') return 413;
  return 400;
}

export function toUploadResult(row: Upload): UploadResult {
  // A hand-edited row that no longer parses: report no warnings rather than fail the request.
  const warnings: UploadWarning[] = uploadWarningSchema.array().safeParse(row.warnings).data ?? [];
  return {
    id: row.id,
    sha256: row.sha256,
    format: uploadFormatSchema.parse(row.format),
    sampleRate: row.sampleRate,
    channels: row.channels,
    durationMs: row.durationMs,
    warnings,
  };
}

/**
 * POST /api/uploads: reference audio for zero-shot/instruct cloning.
 *
 * Body: the raw audio (any content type but multipart), or multipart/form-data with the
 * audio in the field `file`. The format is judged by content, not name or content type.
 * Replies 201 with an UploadResult for a new file, 200 with the stored one when the same
 * person sent the same bytes (sha256) before, and {error:{code,message}} otherwise: 413 TOO_LARGE
 * (checked against Content-Length and while streaming), 415 UNSUPPORTED_FORMAT, 400 for the
 * rest. Files are stored as `uploads/<sha256>.<ext>` (original) and
 * `uploads/<sha256>.pcm.wav` (mono 16-bit PCM at the original rate, what engines read),
 * each put atomically in the object store, before the row is inserted. Each sender gets a row
 * of their own (who may use that voice), while identical bytes share one pair of files and
 * are decoded once. The per-member limits
 * count both files, and are checked and the row inserted under a per-member lock, so a burst
 * of parallel uploads cannot slip past them.
 */
export function createUploadHandler(deps: UploadHandlerDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { db, store, maxBytes, limits, logger, authenticate } = deps;

  const refuse = (req: IncomingMessage, res: ServerResponse, rejection: UploadRejection, context: Record<string, unknown>): void => {
    logger.warn({ code: rejection.code, status: rejection.status, reason: rejection.message, ...context }, 'upload rejected');
    discardRestOfBody(req, res);
    sendJson(res, rejection.status, { error: { code: rejection.code, message: rejection.message } });
  };

  /**
   * The per-member limits an admin sets: uploads per hour and stored bytes, counting the
   * original and the decoded PCM copy of every upload (null when within them).
   */
  const overLimit = async (identity: Identity, incomingBytes: number, exact: boolean): Promise<UploadRejection | null> => {
    const settings = await loadSettings(db);
    const userId = identity.user.id;
    if (settings.uploadsPerHour > 0) {
      const lastHour = await db.upload.count({ where: { uploadedById: userId, createdAt: { gt: new Date(Date.now() - 3600_000) } } });
      if (lastHour >= settings.uploadsPerHour) {
        return new UploadRejection(429, 'RATE_LIMITED', `You have uploaded ${lastHour} files in the last hour; the limit is ${settings.uploadsPerHour} per hour (an admin can change it). Try again later.`);
      }
    }
    if (settings.uploadBytesPerMember > 0) {
      const rows = await db.upload.findMany({ where: { uploadedById: userId }, select: { sizeBytes: true, durationMs: true, sampleRate: true } });
      const stored = rows.reduce((sum, row) => sum + storedUploadBytes(row), 0);
      if (stored + incomingBytes > settings.uploadBytesPerMember) {
        const mb = (n: number): string => (n / 1024 / 1024).toFixed(1);
        return new UploadRejection(
          429,
          'QUOTA_EXCEEDED',
          `Your uploads use ${mb(stored)} MB of your ${mb(settings.uploadBytesPerMember)} MB quota (each upload is stored twice: the original and a decoded copy for the engines); this file needs ${exact ? '' : 'at least '}${mb(incomingBytes)} MB and does not fit. Delete reference audio you no longer need (Account page, or upload.delete; audio still used by a job goes with its last job) or ask an admin to raise the quota.`,
        );
      }
    }
    return null;
  };

  /** This person's row for these bytes, when its files are there too. */
  const ownStored = async (sha256: string, userId: string): Promise<Upload | null> => {
    const own = await db.upload.findUnique({ where: { sha256_uploadedById: { sha256, uploadedById: userId } } });
    return own && (await filesPresent(store, own)) ? own : null;
  };

  /** Anyone's row for these bytes with its files present: its decoded facts are reused. */
  const sharedFacts = async (sha256: string): Promise<StoredFacts | null> => {
    for (const row of await db.upload.findMany({ where: { sha256 }, take: 3 })) {
      if (await filesPresent(store, row)) return { ...factsOf(row), pcmBytes: pcmCopyBytes(row.durationMs, row.sampleRate) };
    }
    return null;
  };

  const decode = async (sha256: string, bytes: Buffer): Promise<DecodedUpload> => {
    const checked = await validatePromptAudio(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), limits);
    const pcm = encodeWav16(checked.samples, checked.sampleRate);
    const facts: UploadFacts = {
      format: checked.format,
      sampleRate: checked.sampleRate,
      channels: checked.channels,
      durationMs: checked.durationMs,
      warnings: checked.warnings,
      originalPath: `uploads/${sha256}.${checked.format}`,
      pcmPath: `uploads/${sha256}.pcm.wav`,
    };
    return { ...facts, pcmBytes: pcm.length, pcm, codec: checked.codec };
  };

  /** 200 with this person's stored upload of the same bytes. */
  const answerStored = (res: ServerResponse, row: Upload, context: Record<string, unknown>): void => {
    logger.info({ id: row.id, sha256: row.sha256, ...context }, 'upload already stored; returning it');
    sendJson(res, 200, toUploadResult(row));
  };

  const writeFiles = async (upload: DecodedUpload, bytes: Buffer): Promise<void> => {
    await store.put(upload.originalPath, bytes);
    await store.put(upload.pcmPath, upload.pcm);
  };

  return async (req, res) => {
    const access = await authenticate(req, 'member');
    if (!access.ok) return refuse(req, res, new UploadRejection(statusOf(access.code), access.code, access.message), {});
    const identity = access.identity;
    const userId = identity.user.id;
    if (declaredTooLarge(req, maxBytes)) {
      return refuse(req, res, tooLarge(maxBytes), { contentLength: req.headers['content-length'] });
    }

    let bytes: Buffer;
    let originalName: string | null;
    try {
      ({ bytes, filename: originalName } = await readUploadBody(req, maxBytes));
    } catch (err) {
      if (err instanceof UploadRejection) return refuse(req, res, err, {});
      if (err instanceof ClientAbortedError) {
        logger.info('upload aborted by the client');
        res.destroy();
        return;
      }
      throw err;
    }
    const context = { originalName, sizeBytes: bytes.length, userId };
    if (bytes.length === 0) {
      return refuse(req, res, new UploadRejection(400, 'EMPTY_FILE', 'The upload is empty (0 bytes). Choose an audio file with a few seconds of speech.'), context);
    }

    const sha256 = createHash('sha256').update(bytes).digest('hex');
    // Under the sha lock: bytes whose files a deletion is removing right now are stored anew.
    const { own, shared } = await uploadFilesLock.run(sha256, async () => {
      const own = await ownStored(sha256, userId);
      return { own, shared: own ? null : await sharedFacts(sha256) };
    });
    if (own) return answerStored(res, own, context);
    // A cheap early refusal before decoding; the exact check (both files) runs under the lock below.
    const early = await overLimit(identity, bytes.length, false);
    if (early) return refuse(req, res, early, context);

    // Bytes someone already sent are not decoded again: their files and facts are shared.
    let decoded: DecodedUpload | null = null;
    try {
      if (!shared) decoded = await decode(sha256, bytes);
    } catch (err) {
      if (isAudioInputError(err)) return refuse(req, res, new UploadRejection(statusFor(err.code), err.code, err.message), { ...context, sha256 });
      throw err;
    }

    // Per member (limits: check + insert) then per sha256 (a deletion of the same bytes' files).
    let outcome: { row: Upload; status: number } | UploadRejection;
    try {
      outcome = await perMember.run(userId, () =>
        uploadFilesLock.run(sha256, async (): Promise<{ row: Upload; status: number } | UploadRejection> => {
          const existing = await db.upload.findUnique({ where: { sha256_uploadedById: { sha256, uploadedById: userId } } });
          if (existing && (await filesPresent(store, existing))) return { row: existing, status: 200 };
          // The shared files went while this request waited (their last job was deleted): decode after all.
          const facts: StoredFacts = decoded ?? (await sharedFacts(sha256)) ?? (decoded = await decode(sha256, bytes));
          // A row whose files went missing is rewritten: it already counts, so no limit applies.
          if (!existing) {
            const limited = await overLimit(identity, bytes.length + facts.pcmBytes, true);
            if (limited) return limited;
          }
          try {
            if (decoded) await writeFiles(decoded, bytes);
            if (existing) return { row: existing, status: 200 };
            const row = await db.upload.create({
              data: { id: newId('upl'), sha256, originalName, ...factsOf(facts), sizeBytes: bytes.length, uploadedById: userId },
            });
            return { row, status: 201 };
          } catch (err) {
            // The same person's same bytes inserted by another process: that row is theirs too.
            const winner = isUniqueViolation(err) ? await db.upload.findUnique({ where: { sha256_uploadedById: { sha256, uploadedById: userId } } }) : null;
            if (winner) return { row: winner, status: 200 };
            // Nothing references the files: do not leave them behind.
            if (decoded && (await db.upload.count({ where: { sha256 } })) === 0) {
              await Promise.all([decoded.originalPath, decoded.pcmPath].map((p) => store.remove(p)));
            }
            throw err;
          }
        }),
      );
    } catch (err) {
      if (isAudioInputError(err)) return refuse(req, res, new UploadRejection(statusFor(err.code), err.code, err.message), { ...context, sha256 });
      throw err;
    }
    if (outcome instanceof UploadRejection) return refuse(req, res, outcome, context);
    const { row, status } = outcome;
    if (status === 200) return answerStored(res, row, context);

    logger.info(
      {
        id: row.id,
        sha256,
        format: row.format,
        codec: decoded?.codec ?? 'shared with an earlier upload of the same bytes',
        sampleRate: row.sampleRate,
        channels: row.channels,
        durationMs: row.durationMs,
        ...context,
      },
      'upload accepted',
    );
    sendJson(res, 201, toUploadResult(row));
  };
}

/** What decoding an upload establishes; identical bytes give identical facts and files. */
type UploadFactColumns = Pick<Upload, 'format' | 'sampleRate' | 'channels' | 'durationMs' | 'warnings' | 'originalPath' | 'pcmPath'>;
type UploadFacts = Omit<UploadFactColumns, 'warnings'> & { warnings: UploadWarning[] };
type StoredFacts = UploadFacts & { pcmBytes: number };
type DecodedUpload = StoredFacts & { pcm: Uint8Array; codec: string };

const factsOf = (f: UploadFacts | UploadFactColumns): UploadFacts => ({
  format: f.format,
  sampleRate: f.sampleRate,
  channels: f.channels,
  durationMs: f.durationMs,
  warnings: uploadWarningSchema.array().safeParse(f.warnings).data ?? [],
  originalPath: f.originalPath,
  pcmPath: f.pcmPath,
});

async function filesPresent(store: ObjectStore, row: Upload): Promise<boolean> {
  const [original, pcm] = await Promise.all([store.stat(row.originalPath), store.stat(row.pcmPath)]);
  return original !== null && pcm !== null;
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'P2002';
}
