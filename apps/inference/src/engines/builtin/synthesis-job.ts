import { encodeWav16 } from '../../audio/wav.ts';
import { resample } from '../../audio/resample.ts';
import { EngineError, throwIfAborted, type EngineInput, type EngineOutput, type EngineRunContext } from '../../engine/engine.ts';
import { ESPEAK_SAMPLE_RATE, EspeakSession } from './espeak.ts';
import { LIMITS, OUTPUT_SAMPLE_RATE, type StageName } from './info.ts';
import { NEUTRAL_DELTA, readInstruction, type ProsodyDelta } from './instruct-style.ts';
import { findSpeaker } from './speakers.ts';
import { runTextFrontend } from './text-frontend.ts';
import { assembleSegments, matchVoice } from './voice-matching.ts';
import { planVoice, segmentVariation } from './voice-plan.ts';
import { analysePrompt, speakerProfile, type VoiceProfile } from './voice-profile.ts';

type Log = (level: 'debug' | 'info' | 'warn', message: string) => void;

/** Let pending messages/timers (an abort) run between blocking steps. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function readStyle(input: EngineInput, log: Log): ProsodyDelta {
  if (input.mode !== 'instruct') {
    if (input.instruct?.trim()) log('debug', `Mode ${input.mode} ignores the style instruction.`);
    return NEUTRAL_DELTA;
  }
  const reading = readInstruction(input.instruct ?? '');
  if (reading.understood.length > 0) log('info', `Style: ${reading.understood.join(', ')}.`);
  else log('warn', 'No style word in the instruction was understood; speaking in the reference voice’s own style.');
  if (reading.ignored.length > 0) log('warn', `Instruction words not understood and ignored: ${reading.ignored.map((p) => `'${p}'`).join(', ')}.`);
  if (reading.negated.length > 0) log('warn', `Negated styles are not supported and were ignored: ${reading.negated.map((p) => `'${p}'`).join(', ')}.`);
  if (reading.capped) log('warn', 'The combined style changes were capped to keep the voice intelligible.');
  return reading.delta;
}

/**
 * One job from input to WAV, in the declared stage order. Runs wherever it is called
 * (a synthesis worker normally); the signal is checked between every step. `speed` is
 * folded into the target speaking rate and pause lengths, so eSpeak itself speaks at
 * the requested pace and Sonic only trims the remaining error.
 */
export async function runSynthesisJob(input: EngineInput, ctx: EngineRunContext): Promise<EngineOutput> {
  const { signal, emit, seed } = ctx;
  const log: Log = (level, message) => emit({ type: 'log', level, message });
  let stage: StageName = 'prompt_analysis';
  const enter = async (name: StageName): Promise<void> => {
    await yieldToEventLoop();
    throwIfAborted(signal);
    stage = name;
    emit({ type: 'stage', name });
  };

  try {
    await enter('prompt_analysis');
    if (!(input.speed >= LIMITS.speedMin && input.speed <= LIMITS.speedMax)) {
      throw new EngineError('INVALID_SPEED', `Speed ${input.speed} is outside ${LIMITS.speedMin}–${LIMITS.speedMax}.`, 'Use 1.0 for normal speed.', stage);
    }
    let profile: VoiceProfile;
    let speakerLanguage: string | undefined;
    if (input.mode === 'pretrained') {
      const speaker = findSpeaker(input.speakerId);
      speakerLanguage = speaker.language;
      profile = speakerProfile(speaker);
      log('info', `Pretrained speaker ${speaker.id}: no reference audio is used; preset F0 ${speaker.f0Hz} Hz, ${speaker.syllablesPerSecond} syllables/s.`);
      if (input.prompt) log('debug', 'Pretrained mode ignores the uploaded reference audio.');
    } else {
      if (!input.prompt) {
        throw new EngineError('PROMPT_REQUIRED', `Mode ${input.mode} needs reference audio.`, 'Upload a 3–10 s recording of the voice to imitate.', stage);
      }
      profile = await analysePrompt(input.prompt, input.promptText?.trim() || undefined, LIMITS, log);
    }

    await enter('text_frontend');
    const chars = [...input.text].length;
    if (chars > LIMITS.maxTextChars) {
      throw new EngineError('TEXT_TOO_LONG', `Text is ${chars} characters; the limit is ${LIMITS.maxTextChars}.`, 'Split the text into several jobs.', stage);
    }
    const frontend = runTextFrontend(input.text);
    if (frontend.segments.length === 0) {
      throw new EngineError('TEXT_EMPTY', 'The text has nothing to speak (no letters or digits).', 'Type the words to speak.', stage);
    }
    log('info', `Text: ${frontend.language === 'zh' ? 'Chinese' : 'English'}, ${frontend.segments.length} segment(s), ~${frontend.syllables} syllables.`);
    if (speakerLanguage && speakerLanguage !== frontend.language) {
      log('info', `Speaker ${input.speakerId} is a ${speakerLanguage} voice; its pitch and pace are applied to the ${frontend.language} voice.`);
    }
    const style = readStyle(input, log);
    const plan = planVoice({ profile, style, language: frontend.language, speed: input.speed, seed }, log);

    await enter('synthesis');
    const session = await EspeakSession.open(seed);
    const variation = segmentVariation(plan);
    const total = frontend.segments.length;
    const parts: Float32Array[] = [];
    const started = performance.now();
    let doneSyllables = 0;
    emit({ type: 'progress', step: 0, total, etaMs: null });
    for (const [index, segment] of frontend.segments.entries()) {
      await yieldToEventLoop();
      throwIfAborted(signal);
      parts.push(session.synthesize(segment.text, variation.next()));
      doneSyllables += segment.syllables;
      const elapsed = performance.now() - started;
      const etaMs = (elapsed / doneSyllables) * (frontend.syllables - doneSyllables);
      emit({ type: 'progress', step: index + 1, total, etaMs: Math.round(etaMs) });
    }
    const synthMs = performance.now() - started;
    const audioSeconds = parts.reduce((n, p) => n + p.length, 0) / ESPEAK_SAMPLE_RATE;
    log('debug', `eSpeak: ${total} segment(s), ${audioSeconds.toFixed(2)} s of audio in ${synthMs.toFixed(0)} ms (real-time factor ${(synthMs / 1000 / Math.max(audioSeconds, 1e-3)).toFixed(3)}).`);

    await enter('voice_matching');
    const assembled = assembleSegments(parts, frontend.segments, plan, ESPEAK_SAMPLE_RATE);
    const matched = await matchVoice(assembled, ESPEAK_SAMPLE_RATE, plan, frontend.syllables, log);

    await enter('encoding');
    const samples = await resample(matched.audio, ESPEAK_SAMPLE_RATE, OUTPUT_SAMPLE_RATE);
    throwIfAborted(signal);
    const wav = encodeWav16(samples, OUTPUT_SAMPLE_RATE);
    const durationMs = (samples.length * 1000) / OUTPUT_SAMPLE_RATE;
    log('debug', `Encoded ${(durationMs / 1000).toFixed(2)} s at ${OUTPUT_SAMPLE_RATE} Hz, 16-bit mono (${wav.length} bytes).`);
    return { wav, sampleRate: OUTPUT_SAMPLE_RATE, durationMs };
  } catch (err) {
    if (signal.aborted) throw new EngineError('CANCELED', 'The job was canceled.', undefined, stage);
    if (err instanceof EngineError) throw err.stage ? err : new EngineError(err.code, err.message, err.hint, stage);
    const message = err instanceof Error ? err.message : String(err);
    throw new EngineError('ENGINE_FAILED', `Built-in engine failed during ${stage}: ${message}`, 'This is a bug in the built-in engine; the job log has details.', stage);
  }
}
