import { encodeWav16 } from '../../audio/wav.ts';
import { EngineError, type EngineInput } from '../../engine/engine.ts';
import { cosyVoiceCrossLingualText, cosyVoiceInstruction, cosyVoicePromptText } from '../cosyvoice/cosyvoice-info.ts';

/**
 * The multipart form CosyVoice's FastAPI runtime (runtime/python/fastapi/server.py) takes.
 * Every field is a required `Form()`/`File()` parameter there, so FastAPI answers 422 when
 * one is missing, and it treats an empty text field as missing. The model receives the
 * texts as they are, so the CosyVoice3 `<|endofprompt|>` rule is applied here.
 *
 *   pretrained     POST /inference_sft            tts_text, spk_id
 *   zero_shot      POST /inference_zero_shot      tts_text, prompt_text, prompt_wav
 *   cross_lingual  POST /inference_cross_lingual  tts_text, prompt_wav
 *   instruct       POST /inference_instruct2      tts_text, instruct_text, prompt_wav
 *
 * prompt_wav is a file part; the server reads it with soundfile and resamples it to 16 kHz
 * itself (refusing anything below 16 kHz), so the prompt goes as a 16-bit mono WAV at its
 * own rate.
 */
export interface FastApiRequest {
  path: '/inference_sft' | '/inference_zero_shot' | '/inference_cross_lingual' | '/inference_instruct2';
  form: FormData;
  /** The text fields exactly as sent. */
  fields: Record<string, string>;
  /** The prompt file, when the mode sends one. */
  promptWav: { bytes: number; seconds: number; sampleRate: number } | null;
}

export const PROMPT_FILE_NAME = 'prompt.wav';

export function buildFastApiRequest(generation: 1 | 2 | 3, input: EngineInput, stage?: string): FastApiRequest {
  const fields: Record<string, string> = {};
  let path: FastApiRequest['path'];
  let needsPrompt = true;
  switch (input.mode) {
    case 'pretrained': {
      if (!input.speakerId) throw new EngineError('SPEAKER_REQUIRED', 'Mode pretrained needs a speaker.', 'Pick one of the engine’s speakers.', stage);
      path = '/inference_sft';
      // CosyVoice3's LLM asserts the marker somewhere in its text; an SFT speaker brings no prompt text.
      fields.tts_text = cosyVoiceCrossLingualText(generation, input.text);
      fields.spk_id = input.speakerId;
      needsPrompt = false;
      break;
    }
    case 'zero_shot': {
      const transcript = input.promptText?.trim() ?? '';
      if (transcript === '' && generation < 3) {
        throw new EngineError(
          'PROMPT_TEXT_REQUIRED',
          'The CosyVoice FastAPI runtime needs the transcript of the reference audio for zero-shot cloning.',
          'Type exactly what the reference recording says, or use cross-lingual mode, which needs no transcript.',
          stage,
        );
      }
      path = '/inference_zero_shot';
      fields.tts_text = input.text;
      fields.prompt_text = cosyVoicePromptText(generation, transcript);
      break;
    }
    case 'cross_lingual':
      path = '/inference_cross_lingual';
      fields.tts_text = cosyVoiceCrossLingualText(generation, input.text);
      break;
    case 'instruct': {
      const instruct = input.instruct?.trim() ?? '';
      if (instruct === '') throw new EngineError('INSTRUCT_REQUIRED', 'Mode instruct needs an instruction.', 'Describe how to speak, e.g. "Speak slowly and warmly."', stage);
      path = '/inference_instruct2';
      fields.tts_text = input.text;
      fields.instruct_text = cosyVoiceInstruction(generation, instruct);
      break;
    }
  }

  const form = new FormData();
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  let promptWav: FastApiRequest['promptWav'] = null;
  if (needsPrompt) {
    const prompt = input.prompt;
    if (!prompt || prompt.samples.length === 0) {
      throw new EngineError('PROMPT_REQUIRED', `Mode ${input.mode} needs reference audio.`, 'Upload a 3–10 s recording of the voice to imitate.', stage);
    }
    const wav = encodeWav16(prompt.samples, prompt.sampleRate);
    // The file part needs a filename: Starlette only turns parts with one into an UploadFile.
    form.append('prompt_wav', new Blob([new Uint8Array(wav)], { type: 'audio/wav' }), PROMPT_FILE_NAME);
    promptWav = { bytes: wav.byteLength, seconds: prompt.samples.length / prompt.sampleRate, sampleRate: prompt.sampleRate };
  }
  return { path, form, fields, promptWav };
}
