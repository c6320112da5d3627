#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Chorus: the reference runner for `command` engines (see README.md next to this file).
"""Run one Chorus job on a local CosyVoice model.

Reads the job as one JSON document on stdin, loads the model with CosyVoice's AutoModel,
seeds it, synthesises the text non-streaming and writes a 16-bit mono WAV to the job's
``output_wav``. Stages and per-segment progress go to stdout as ``@chorus {json}`` lines;
everything else is Python ``logging`` on stderr. On failure the exception propagates, so
the process exits non-zero with the traceback on stderr (Chorus classifies it).

Only the Python standard library is needed besides CosyVoice itself; numpy is used for
the WAV conversion when it is importable.
"""

import argparse
import array
import json
import logging
import os
import sys
import time
import wave

try:  # Optional: a faster sample conversion. The stdlib path below gives the same bytes.
    import numpy as _np
except ImportError:  # pragma: no cover - depends on the environment
    _np = None

JOB_VERSION = 1
MODES = ('zero_shot', 'cross_lingual', 'instruct', 'pretrained')
REQUIRED_BY_MODE = {
    'zero_shot': ['prompt_wav', 'prompt_text'],
    'cross_lingual': ['prompt_wav'],
    'instruct': ['prompt_wav', 'instruct'],
    'pretrained': ['speaker_id'],
}
log = logging.getLogger('chorus.runner')

# ---------------------------------------------------------------------------------------
# The CosyVoice <|endofprompt|> rule. CosyVoice3's LLM refuses input without the marker;
# CosyVoice2 ends instructions with it. This mirrors the helpers in
# apps/inference/src/engines/cosyvoice/cosyvoice-info.ts (a test compares the two).

END_OF_PROMPT = '<|endofprompt|>'
SYSTEM_PROMPT = 'You are a helpful assistant.'


def prompt_text_for(generation, transcript):
    """The zero-shot prompt text as the generation expects it."""
    if generation < 3 or END_OF_PROMPT in transcript:
        return transcript
    return SYSTEM_PROMPT + END_OF_PROMPT + transcript


def instruction_for(generation, instruct):
    """The instruct2 instruction: CosyVoice2 ends it with the marker, CosyVoice3 also wants the system prompt."""
    if END_OF_PROMPT in instruct:
        return instruct
    if generation >= 3:
        return SYSTEM_PROMPT + ' ' + instruct + END_OF_PROMPT
    return instruct + END_OF_PROMPT


def cross_lingual_text_for(generation, text):
    """Text without a prompt transcript (cross-lingual, and sft): CosyVoice3 wants the marker in front."""
    if generation < 3 or END_OF_PROMPT in text:
        return text
    return SYSTEM_PROMPT + END_OF_PROMPT + text


# ---------------------------------------------------------------------------------------
# The @chorus line protocol (stdout).


def chorus(event):
    sys.stdout.write('@chorus ' + json.dumps(event, ensure_ascii=False) + '\n')
    sys.stdout.flush()


def stage(name):
    chorus({'type': 'stage', 'name': name})


def progress(step, total, eta_ms=None):
    event = {'type': 'progress', 'step': step, 'total': total}
    if eta_ms is not None:
        event['eta_ms'] = int(round(eta_ms))
    chorus(event)


# ---------------------------------------------------------------------------------------
# The job document.


def read_job(stream):
    """Parse and check the job document; raises ValueError naming what is wrong."""
    raw = stream.read()
    try:
        job = json.loads(raw)
    except ValueError as err:
        raise ValueError('the job on stdin is not JSON: {}'.format(err)) from None
    if not isinstance(job, dict):
        raise ValueError('the job on stdin must be a JSON object')
    if job.get('version') != JOB_VERSION:
        raise ValueError('unsupported job version {!r} (this runner speaks {})'.format(job.get('version'), JOB_VERSION))
    mode = job.get('mode')
    if mode not in MODES:
        raise ValueError('unknown mode {!r} (expected one of {})'.format(mode, ', '.join(MODES)))
    required = ['text', 'output_wav'] + REQUIRED_BY_MODE[mode]
    for key in required:
        if not isinstance(job.get(key), str) or job[key] == '':
            raise ValueError('the {} job needs a non-empty "{}"'.format(mode, key))
    if job.get('generation') not in (1, 2, 3):
        raise ValueError('"generation" must be 1, 2 or 3, not {!r}'.format(job.get('generation')))
    speed = job.get('speed', 1.0)
    if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not 0.5 <= speed <= 2.0:
        raise ValueError('"speed" must be a number from 0.5 to 2.0, not {!r}'.format(speed))
    seed = job.get('seed', 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2 ** 32:
        raise ValueError('"seed" must be an integer from 0 to 2^32-1, not {!r}'.format(seed))
    if mode == 'instruct' and job['generation'] < 2:
        raise ValueError('instruct mode needs CosyVoice 2 or 3 (inference_instruct2)')
    return job


# ---------------------------------------------------------------------------------------
# The model.


def model_generation(model):
    """The generation of a loaded model from its class (CosyVoice3 subclasses CosyVoice2 …), or None."""
    names = [cls.__name__ for cls in type(model).__mro__]
    for name, generation in (('CosyVoice3', 3), ('CosyVoice2', 2), ('CosyVoice', 1)):
        if name in names:
            return generation
    return None


def load_model(args):
    model_dir = args.model_dir or os.environ.get('COSYVOICE_MODEL_DIR')
    if not model_dir:
        raise ValueError('no model: pass --model-dir or set COSYVOICE_MODEL_DIR')
    from cosyvoice.cli.cosyvoice import AutoModel

    options = {}
    for flag in ('fp16', 'load_jit', 'load_trt', 'load_vllm'):
        if getattr(args, flag):
            options[flag] = True
    log.info('loading the model from %s', model_dir)
    started = time.time()
    model = AutoModel(model_dir=model_dir, **options)
    log.info('loaded %s (%s Hz) in %.1f s', type(model).__name__, model.sample_rate, time.time() - started)
    return model


def plan_call(model, job, generation):
    """(method, positional args, the text CosyVoice will split) for the job's mode."""
    mode = job['mode']
    text = job['text']
    if mode == 'zero_shot':
        tts_text = text
        return model.inference_zero_shot, (tts_text, prompt_text_for(generation, job['prompt_text']), job['prompt_wav']), tts_text
    if mode == 'cross_lingual':
        tts_text = cross_lingual_text_for(generation, text)
        return model.inference_cross_lingual, (tts_text, job['prompt_wav']), tts_text
    if mode == 'instruct':
        tts_text = text
        return model.inference_instruct2, (tts_text, instruction_for(generation, job['instruct']), job['prompt_wav']), tts_text
    speaker = job['speaker_id']
    available = list(model.list_available_spks())
    if speaker not in available:
        raise ValueError('speaker {!r} is not one of this model\'s speakers ({})'.format(speaker, ', '.join(available) or 'none'))
    tts_text = cross_lingual_text_for(generation, text)
    return model.inference_sft, (tts_text, speaker), tts_text


def count_segments(model, tts_text):
    """How many segments CosyVoice will synthesise (it yields one chunk per segment), or None if unknown."""
    frontend = getattr(model, 'frontend', None)
    normalize = getattr(frontend, 'text_normalize', None)
    if normalize is None:
        return None
    segments = normalize(tts_text, split=True, text_frontend=True)
    return len(segments) if isinstance(segments, (list, tuple)) else None


# ---------------------------------------------------------------------------------------
# Audio.


def speech_samples(speech):
    """Mono float samples of one tts_speech chunk (a torch tensor of shape [1, n] in CosyVoice)."""
    value = speech
    if hasattr(value, 'detach'):
        value = value.detach()
    if hasattr(value, 'cpu'):
        value = value.cpu()
    if _np is not None and hasattr(value, 'numpy'):
        return _np.asarray(value.numpy(), dtype=_np.float64).reshape(-1)
    data = value.tolist() if hasattr(value, 'tolist') else value
    flat = []
    stack = [data]
    while stack:  # flatten nested lists, keeping order
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        else:
            flat.append(float(item))
    return flat


def pcm16(chunks):
    """16-bit little-endian PCM of the concatenated chunks, clipped to [-1, 1] (NaN → 0)."""
    if _np is not None:
        samples = _np.concatenate([_np.asarray(c, dtype=_np.float64) for c in chunks]) if chunks else _np.zeros(0)
        samples = _np.clip(_np.nan_to_num(samples, nan=0.0, posinf=1.0, neginf=-1.0), -1.0, 1.0)
        return _np.rint(samples * 32767.0).astype('<i2').tobytes(), int(samples.shape[0])
    out = array.array('h')
    for chunk in chunks:
        for x in chunk:
            x = float(x)
            x = 0.0 if x != x else max(-1.0, min(1.0, x))
            out.append(int(round(x * 32767.0)))
    if sys.byteorder == 'big':
        out.byteswap()
    return out.tobytes(), len(out)


def write_wav(path, chunks, sample_rate):
    data, frames = pcm16(chunks)
    tmp = path + '.partial'
    with wave.open(tmp, 'wb') as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(data)
    os.replace(tmp, path)  # the engine never sees a half-written file
    return frames


# ---------------------------------------------------------------------------------------


def parse_args(argv):
    parser = argparse.ArgumentParser(description='Chorus reference runner: one CosyVoice job from a JSON document on stdin.')
    parser.add_argument('--model-dir', help='CosyVoice model directory (default: $COSYVOICE_MODEL_DIR)')
    parser.add_argument('--cosyvoice-repo', help='a CosyVoice checkout to import from (adds it and third_party/Matcha-TTS to sys.path)')
    parser.add_argument('--fp16', action='store_true', help='pass fp16=True to AutoModel')
    parser.add_argument('--load-jit', action='store_true', help='pass load_jit=True to AutoModel (CosyVoice 1/2)')
    parser.add_argument('--load-trt', action='store_true', help='pass load_trt=True to AutoModel')
    parser.add_argument('--load-vllm', action='store_true', help='pass load_vllm=True to AutoModel (CosyVoice 2/3)')
    parser.add_argument('--log-level', default='INFO', choices=['DEBUG', 'INFO', 'WARNING', 'ERROR'])
    return parser.parse_args(argv)


def run(args):
    job = read_job(sys.stdin)
    generation = job['generation']
    current = 'load_model'
    try:
        stage('load_model')
        if args.cosyvoice_repo:
            repo = os.path.abspath(args.cosyvoice_repo)
            sys.path[:0] = [repo, os.path.join(repo, 'third_party', 'Matcha-TTS')]
        model = load_model(args)
        from cosyvoice.utils.common import set_all_random_seed

        detected = model_generation(model)
        if detected is not None and detected != generation:
            log.warning('the engine is configured for CosyVoice %d but the model is %s; the <|endofprompt|> rule follows the configuration',
                        generation, type(model).__name__)

        current = 'text_frontend'
        stage('text_frontend')
        method, call_args, tts_text = plan_call(model, job, generation)
        total = count_segments(model, tts_text)
        if total is not None:
            log.info('%d segment(s) to synthesise', total)

        current = 'synthesis'
        stage('synthesis')
        set_all_random_seed(job['seed'])
        started = time.time()
        if total:
            progress(0, total)
        chunks = []
        for output in method(*call_args, stream=False, speed=float(job['speed'])):
            chunks.append(speech_samples(output['tts_speech']))
            if total:
                done = len(chunks)
                total = max(total, done)
                elapsed = time.time() - started
                progress(done, total, elapsed / done * (total - done) * 1000)
        if not chunks:
            raise RuntimeError('CosyVoice produced no audio for this text')

        current = 'encoding'
        stage('encoding')
        frames = write_wav(job['output_wav'], chunks, model.sample_rate)
        seconds = frames / float(model.sample_rate)
        elapsed = time.time() - started
        log.info('wrote %.2f s of audio at %d Hz in %d segment(s); synthesis took %.2f s (RTF %.3f)',
                 seconds, model.sample_rate, len(chunks), elapsed, elapsed / seconds if seconds else 0.0)
    except Exception as err:
        log.error('failed during %s: %s: %s', current, type(err).__name__, err)
        raise


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # Configured before CosyVoice is imported (its basicConfig then changes nothing): one
    # "time LEVEL message" format on stderr, which Chorus maps to leveled log events.
    logging.basicConfig(level=getattr(logging, args.log_level), format='%(asctime)s %(levelname)s %(message)s', stream=sys.stderr)
    run(args)


if __name__ == '__main__':
    main()
