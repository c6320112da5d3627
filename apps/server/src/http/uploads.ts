import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { loadSettings, newId, type Identity } from '@chorus/api';
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
import type { Logger } from 'pino';
import { statusOf, type HttpAuthenticator } from '../auth/http-auth.ts';
import { sendJson } from './respond.ts';
import { ClientAbortedError, UploadRejection, declaredTooLarge, readUploadBody, tooLarge } from './upload-body.ts';

export interface UploadHandlerDeps {
  db: Db;
  /** Files go to `${dataDir}/uploads/`; the DB stores paths relative to dataDir. */
  dataDir: string;
  maxBytes: number;
  limits: Pick<EngineLimits, 'promptMinMs' | 'promptMaxMs' | 'promptMinSampleRate' | 'promptPreferredSampleRate'>;
  authenticate: HttpAuthenticator;
  logger: Logger;
}

/** After refusing an oversized body, how long to keep discarding what the client still sends. */
const LINGER_MS = 5000;

function statusFor(code: UploadErrorCode): number {
  if (code === 'UNSUPPORTED_FORMAT') return 415;
  if (code === 'RATE_LIMITED' || code === 'QUOTA_EXCEEDED') return 429;
  if (code === 'TOO_LARGE') return 413;
  return 400;
}

export function toUploadResult(row: Upload): UploadResult {
  let warnings: UploadWarning[] = [];
  try {
    const parsed = uploadWarningSchema.array().safeParse(JSON.parse(row.warnings));
    if (parsed.success) warnings = parsed.data;
  } catch {
    // A hand-edited row with broken JSON: report no warnings rather than fail the request.
  }
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
 * bytes (sha256) were uploaded before, and {error:{code,message}} otherwise: 413 TOO_LARGE
 * (checked against Content-Length and while streaming), 415 UNSUPPORTED_FORMAT, 400 for the
 * rest. Files are written to `uploads/<sha256>.<ext>` (original) and
 * `uploads/<sha256>.pcm.wav` (mono 16-bit PCM at the original rate, what engines read),
 * each via a temporary file and a rename, before the row is inserted.
 */
export function createUploadHandler(deps: UploadHandlerDeps): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const { db, dataDir, maxBytes, limits, logger, authenticate } = deps;
  const uploadsDir = path.join(dataDir, 'uploads');

  const refuse = (req: IncomingMessage, res: ServerResponse, rejection: UploadRejection, context: Record<string, unknown>): void => {
    logger.warn({ code: rejection.code, status: rejection.status, reason: rejection.message, ...context }, 'upload rejected');
    if (!req.complete) {
      // The client is still sending. Answer now, then keep discarding (never storing) what
      // it sends for a moment so it reads the answer instead of a connection reset, and
      // close the connection.
      res.setHeader('connection', 'close');
      req.unpipe();
      req.on('data', () => {});
      req.on('error', () => {});
      req.resume();
      const timer = setTimeout(() => req.socket.destroy(), LINGER_MS);
      timer.unref();
      req.once('close', () => clearTimeout(timer));
    }
    sendJson(res, rejection.status, { error: { code: rejection.code, message: rejection.message } });
  };

  /** The per-member limits an admin sets: uploads per hour and stored bytes (null when within them). */
  const overLimit = async (identity: Identity, incomingBytes: number): Promise<UploadRejection | null> => {
    const settings = await loadSettings(db);
    const userId = identity.user.id;
    if (settings.uploadsPerHour > 0) {
      const lastHour = await db.upload.count({ where: { uploadedById: userId, createdAt: { gt: new Date(Date.now() - 3600_000) } } });
      if (lastHour >= settings.uploadsPerHour) {
        return new UploadRejection(429, 'RATE_LIMITED', `You have uploaded ${lastHour} files in the last hour; the limit is ${settings.uploadsPerHour} per hour (an admin can change it). Try again later.`);
      }
    }
    if (settings.uploadBytesPerMember > 0) {
      const stored = (await db.upload.aggregate({ where: { uploadedById: userId }, _sum: { sizeBytes: true } }))._sum.sizeBytes ?? 0;
      if (stored + incomingBytes > settings.uploadBytesPerMember) {
        const mb = (n: number): string => (n / 1024 / 1024).toFixed(1);
        return new UploadRejection(429, 'QUOTA_EXCEEDED', `Your uploads use ${mb(stored)} MB of your ${mb(settings.uploadBytesPerMember)} MB quota; this file (${mb(incomingBytes)} MB) does not fit. Delete old jobs or ask an admin to raise the quota.`);
      }
    }
    return null;
  };

  return async (req, res) => {
    const access = await authenticate(req, 'member');
    if (!access.ok) return refuse(req, res, new UploadRejection(statusOf(access.code), access.code, access.message), {});
    const identity = access.identity;
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
    const context = { originalName, sizeBytes: bytes.length };
    if (bytes.length === 0) {
      return refuse(req, res, new UploadRejection(400, 'EMPTY_FILE', 'The upload is empty (0 bytes). Choose an audio file with a few seconds of speech.'), context);
    }

    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const existing = await db.upload.findUnique({ where: { sha256 } });
    if (existing && (await filesPresent(dataDir, existing))) {
      logger.info({ id: existing.id, sha256, ...context }, 'upload already stored; returning it');
      return sendJson(res, 200, toUploadResult(existing));
    }
    const limited = await overLimit(identity, bytes.length);
    if (limited) return refuse(req, res, limited, { ...context, userId: identity.user.id });

    let checked: Awaited<ReturnType<typeof validatePromptAudio>>;
    try {
      checked = await validatePromptAudio(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), limits);
    } catch (err) {
      if (isAudioInputError(err)) return refuse(req, res, new UploadRejection(statusFor(err.code), err.code, err.message), { ...context, sha256 });
      throw err;
    }

    const originalPath = `uploads/${sha256}.${checked.format}`;
    const pcmPath = `uploads/${sha256}.pcm.wav`;
    await fs.mkdir(uploadsDir, { recursive: true });
    let row: Upload;
    let status = 201;
    try {
      await writeAtomically(path.join(dataDir, originalPath), bytes);
      await writeAtomically(path.join(dataDir, pcmPath), encodeWav16(checked.samples, checked.sampleRate));
      if (existing) {
        // The row survived but its files did not (data dir restored or cleaned): rewritten.
        row = existing;
        status = 200;
      } else {
        row = await db.upload.create({
          data: {
            id: newId('upl'),
            sha256,
            originalName,
            format: checked.format,
            sampleRate: checked.sampleRate,
            channels: checked.channels,
            durationMs: checked.durationMs,
            sizeBytes: bytes.length,
            warnings: JSON.stringify(checked.warnings),
            originalPath,
            pcmPath,
            uploadedById: identity.user.id,
          },
        });
      }
    } catch (err) {
      // The same bytes uploaded concurrently: the other request inserted first. Its row
      // points at the same (identical) files, so answer with it.
      const winner = isUniqueViolation(err) ? await db.upload.findUnique({ where: { sha256 } }) : null;
      if (winner) return sendJson(res, 200, toUploadResult(winner));
      // Nothing references the files: do not leave them behind.
      if (!(await db.upload.findUnique({ where: { sha256 } }))) {
        await Promise.all([originalPath, pcmPath].map((p) => fs.rm(path.join(dataDir, p), { force: true })));
      }
      throw err;
    }

    logger.info(
      {
        id: row.id,
        sha256,
        format: checked.format,
        codec: checked.codec,
        sampleRate: checked.sampleRate,
        channels: checked.channels,
        durationMs: checked.durationMs,
        warnings: checked.warnings.map((w) => w.code),
        ...context,
      },
      'upload accepted',
    );
    sendJson(res, status, toUploadResult(row));
  };
}

async function filesPresent(dataDir: string, row: Upload): Promise<boolean> {
  try {
    await Promise.all([fs.access(path.join(dataDir, row.originalPath)), fs.access(path.join(dataDir, row.pcmPath))]);
    return true;
  } catch {
    return false;
  }
}

/** Write to a temporary file next to `target`, then rename: readers never see half a file. */
async function writeAtomically(target: string, data: Uint8Array): Promise<void> {
  const temp = `${target}.${randomUUID()}.tmp`;
  try {
    await fs.writeFile(temp, data, { flag: 'wx' });
    await fs.rename(temp, target);
  } catch (err) {
    await fs.rm(temp, { force: true });
    throw err;
  }
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'P2002';
}
