import { TRPCError } from '@trpc/server';
import type { Db, Upload } from '@chorus/db';
import type { CreateJobInput } from '../schemas/job-input.ts';
import type { EngineInfo } from '../schemas/engine.ts';
import type { EngineCatalog } from '../ports.ts';

const bad = (message: string): TRPCError => new TRPCError({ code: 'BAD_REQUEST', message });

const MODE_LABEL: Record<CreateJobInput['mode'], string> = {
  zero_shot: 'Zero-shot cloning',
  cross_lingual: 'Cross-lingual cloning',
  instruct: 'Instruct mode',
  pretrained: 'Pretrained-speaker mode',
};

export interface CheckedJobInput {
  engine: EngineInfo;
  text: string;
  promptUpload: Upload | null;
  promptText: string | null;
  instruct: string | null;
  speakerId: string | null;
}

/**
 * Rules that depend on the mode and on the chosen engine's declared capabilities. Shape
 * checks already happened in zod; everything here fails with a message that says what
 * was wrong and what is accepted, before any row is written.
 */
export async function checkJobInput(db: Db, engines: EngineCatalog, input: CreateJobInput): Promise<CheckedJobInput> {
  const engine = engines.get(input.engineId);
  if (!engine) {
    const ids = engines.list().map((e) => e.id).join(', ');
    throw bad(`Unknown engine "${input.engineId}"; available engines: ${ids}.`);
  }
  const text = input.text.trim();
  if (text === '') throw bad('Text is empty: type the words to speak.');
  const chars = [...text].length;
  if (chars > engine.limits.maxTextChars) {
    throw bad(`Text is ${chars} characters; the limit for engine "${engine.id}" is ${engine.limits.maxTextChars}.`);
  }
  if (!engine.modes.includes(input.mode)) {
    throw bad(`Engine "${engine.id}" does not support mode "${input.mode}"; it supports: ${engine.modes.join(', ')}.`);
  }
  const label = MODE_LABEL[input.mode];
  const promptText = input.promptText?.trim() || null;
  const instruct = input.instruct?.trim() || null;
  const needsPrompt = input.mode !== 'pretrained';

  if (needsPrompt && !input.promptUploadId) {
    throw bad(`${label} needs reference audio: upload it with POST /api/uploads and pass its id as promptUploadId.`);
  }
  if (input.mode === 'zero_shot' && !promptText) {
    throw bad('Zero-shot cloning needs promptText: the transcript of what is said in the reference audio.');
  }
  if (input.mode === 'instruct' && !instruct) {
    throw bad('Instruct mode needs an instruction, e.g. "say it gently" or "用温柔的语气说".');
  }
  let speakerId: string | null = null;
  if (input.mode === 'pretrained') {
    const ids = engine.speakers.map((s) => s.id);
    if (!input.speakerId) throw bad(`Pretrained-speaker mode needs speakerId; available speakers: ${ids.join(', ')}.`);
    if (!ids.includes(input.speakerId)) {
      throw bad(`Unknown speaker "${input.speakerId}" for engine "${engine.id}"; available speakers: ${ids.join(', ')}.`);
    }
    speakerId = input.speakerId;
  }

  let promptUpload: Upload | null = null;
  if (needsPrompt && input.promptUploadId) {
    promptUpload = await db.upload.findUnique({ where: { id: input.promptUploadId } });
    if (!promptUpload) {
      throw bad(`Upload "${input.promptUploadId}" does not exist; upload the reference audio first (POST /api/uploads).`);
    }
    const { promptMinMs, promptMaxMs, promptMinSampleRate } = engine.limits;
    if (promptUpload.durationMs < promptMinMs || promptUpload.durationMs > promptMaxMs) {
      throw bad(`Reference audio is ${(promptUpload.durationMs / 1000).toFixed(1)} s; engine "${engine.id}" accepts ${promptMinMs / 1000}–${promptMaxMs / 1000} s.`);
    }
    if (promptUpload.sampleRate < promptMinSampleRate) {
      throw bad(`Reference audio is ${promptUpload.sampleRate} Hz; engine "${engine.id}" needs at least ${promptMinSampleRate} Hz.`);
    }
  }

  return {
    engine,
    text,
    promptUpload,
    promptText: input.mode === 'zero_shot' ? promptText : null,
    instruct: input.mode === 'instruct' ? instruct : null,
    speakerId,
  };
}
