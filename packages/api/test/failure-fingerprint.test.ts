import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { newId } from '../src/ids.ts';
import { failureFingerprint, normalizeFailureMessage } from '../src/services/failure-fingerprint.ts';
import type { JobErrorCode } from '../src/schemas/error-codes.ts';

const fp = (code: JobErrorCode, message: string, engineId = 'cosyvoice3-cmd', stage: string | null = 'synthesis'): string =>
  failureFingerprint({ code, engineId, stage, message });

/**
 * Tracebacks as the command engine logs them (one error event per traceback). Captured from
 * apps/inference/test/fixtures/command/cv3_without_marker.py and the reference runner with
 * the fake cosyvoice package (python 3.11, so with caret lines), then moved to other
 * install directories and line numbers the way a second machine or version would print them.
 */
const markerTraceback = (root: string, sep: '/' | '\\', lines: [number, number, number, number], carets: boolean): string =>
  [
    'Traceback (most recent call last):',
    `  File "${root}${sep}cv3_without_marker.py", line ${lines[0]}, in <module>`,
    "    for out in model.inference_zero_shot(job['text'], job['prompt_text'], job['prompt_wav'], stream=False):",
    `  File "${root}${sep}cosyvoice${sep}cli${sep}cosyvoice.py", line ${lines[1]}, in inference_zero_shot`,
    '    yield from self._run(tts_text, speed, prompt_text=prompt_text, prompt_wav=prompt_wav, zero_shot=True)',
    `  File "${root}${sep}cosyvoice${sep}cli${sep}cosyvoice.py", line ${lines[2]}, in _run`,
    '    self._check_marker(i, prompt_text)',
    `  File "${root}${sep}cosyvoice${sep}cli${sep}cosyvoice.py", line ${lines[3]}, in _check_marker`,
    "    assert END_OF_PROMPT in prompt_text + text, '<|endofprompt|> not detected in CosyVoice3 text or prompt_text, check your input!'",
    ...(carets ? ['           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^'] : []),
    'AssertionError: <|endofprompt|> not detected in CosyVoice3 text or prompt_text, check your input!',
  ].join('\n');

const crashTraceback = (runner: string, pkg: string, lines: number[]): string =>
  [
    'Traceback (most recent call last):',
    `  File "${runner}", line ${lines[0]}, in <module>`,
    '    main()',
    `  File "${runner}", line ${lines[1]}, in main`,
    '    run(args)',
    `  File "${runner}", line ${lines[2]}, in run`,
    "    for output in method(*call_args, stream=False, speed=float(job['speed'])):",
    `  File "${pkg}", line ${lines[3]}, in inference_cross_lingual`,
    '    yield from self._run(tts_text, speed, prompt_wav=prompt_wav)',
    `  File "${pkg}", line ${lines[4]}, in _run`,
    '    output = self._tts(i, speed)',
    '             ^^^^^^^^^^^^^^^^^^^',
    `  File "${pkg}", line ${lines[5]}, in _tts`,
    "    raise ValueError('fake flow decoder failed on purpose (CRASH in the text)')",
    'ValueError: fake flow decoder failed on purpose (CRASH in the text)',
  ].join('\n');

describe('normalizeFailureMessage', () => {
  it('turns the numbers and sizes of a CUDA out-of-memory error into placeholders', () => {
    expect(normalizeFailureMessage('CUDA out of memory. Tried to allocate 2.50 GiB (GPU 0; 23.69 GiB total capacity; 20.1 GiB already allocated)')).toBe(
      'CUDA out of memory. Tried to allocate <size> (GPU <n>; <size> total capacity; <size> already allocated)',
    );
  });

  it('takes out Chorus ids, UUIDs, hashes and hex addresses', () => {
    const sha = createHash('sha256').update('x').digest('hex');
    expect(normalizeFailureMessage(`Reference audio upload ${newId('upl')} of job ${newId('job')} no longer exists.`)).toBe(
      'Reference audio upload upl_<id> of job job_<id> no longer exists.',
    );
    expect(normalizeFailureMessage(`request 3f2b8c1e-9d4a-4e6f-8a7b-0c1d2e3f4a5b: sha256 ${sha}, <Tensor at 0x7f3a2b1c9d80>`)).toBe(
      'request <uuid>: sha256 <hash>, <Tensor at <hex>>',
    );
  });

  it('takes out POSIX, home, relative and Windows paths, and traceback frames', () => {
    expect(normalizeFailureMessage("Cannot start /opt/cosyvoice/.venv/bin/python3: its working directory /srv/cv3 does not exist.")).toBe(
      'Cannot start <path>: its working directory <path> does not exist.',
    );
    expect(normalizeFailureMessage('No such file ~/models/cv3.yaml or ./runners/x.py or C:\\Users\\ops\\cv\\model.pt or \\\\gpu2\\share\\m.bin')).toBe(
      'No such file <path> or <path> or <path> or <path>',
    );
    expect(normalizeFailureMessage('  File "C:\\Program Files\\CosyVoice\\cosyvoice\\cli\\cosyvoice.py", line 142, in _check_marker')).toBe(
      'File <path>, line <n>, in _check_marker',
    );
  });

  it('takes out quoted text but keeps apostrophes, model names, URLs as one placeholder and tqdm units', () => {
    expect(normalizeFailureMessage('Unknown speaker "my voice"; the engine’s speakers differ; KeyError: \'zh-fem\' ‘x’ “y”')).toBe(
      'Unknown speaker <text>; the engine’s speakers differ; KeyError: <text> <text> <text>',
    );
    expect(normalizeFailureMessage("The command's program isn't CosyVoice3 at http://gpu2:8000/inference_zero_shot (3.1it/s)")).toBe(
      "The command's program isn't CosyVoice3 at <url> (<n>it/s)",
    );
  });

  it('drops Python caret lines and collapses whitespace', () => {
    expect(normalizeFailureMessage('  x = f(y)\n      ^^^^\n\tValueError:   bad  \n')).toBe('x = f(y) ValueError: bad');
  });
});

describe('failureFingerprint', () => {
  it('is 16 hex characters and stable', () => {
    const a = fp('GPU_OOM', 'CUDA out of memory.');
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(fp('GPU_OOM', 'CUDA out of memory.')).toBe(a);
  });

  it('groups CUDA out-of-memory errors that differ only in sizes, devices and pids', () => {
    expect(fp('GPU_OOM', 'CUDA out of memory. Tried to allocate 2.50 GiB (GPU 0; 23.69 GiB total capacity; 20.1 GiB already allocated)')).toBe(
      fp('GPU_OOM', 'CUDA out of memory. Tried to allocate 512.00 MiB (GPU 3; 79.15 GiB total capacity; 77.9 GiB already allocated)'),
    );
    // torch ≥ 2.1 words it differently and names the process holding the memory.
    expect(
      fp('GPU_OOM', 'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB. GPU 0 has a total capacity of 23.69 GiB of which 3.06 MiB is free. Process 2847 has 23.67 GiB memory in use.'),
    ).toBe(
      fp('GPU_OOM', 'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.12 GiB. GPU 1 has a total capacity of 79.15 GiB of which 410.50 MiB is free. Process 913377 has 78.70 GiB memory in use.'),
    );
  });

  it('puts every missing-<|endofprompt|> failure of an engine in one group', () => {
    const runs = [
      markerTraceback('/home/ops/chorus/apps/inference/test/fixtures/command', '/', [10, 186, 170, 142], true),
      markerTraceback('/opt/chorus/venv/lib/python3.10/site-packages', '/', [12, 201, 183, 150], false),
      markerTraceback('C:\\Users\\ops\\AppData\\Local\\Programs\\Python\\Python311\\Lib\\site-packages', '\\', [10, 186, 170, 142], true),
    ];
    const prints = new Set(runs.map((tb) => fp('PROMPT_FORMAT', tb)));
    expect(prints.size).toBe(1);
    // The runner's own log line of the failure, on different days.
    expect(fp('PROMPT_FORMAT', '2026-12-02 10:11:39,146 ERROR failed during synthesis: AssertionError: <|endofprompt|> not detected in CosyVoice3 text or prompt_text, check your input!')).toBe(
      fp('PROMPT_FORMAT', '2027-01-15 23:59:02,007 ERROR failed during synthesis: AssertionError: <|endofprompt|> not detected in CosyVoice3 text or prompt_text, check your input!'),
    );
  });

  it('groups a crash whose traceback comes from other files and lines', () => {
    const a = crashTraceback('/tmp/fpA/cosyvoice_runner.py', '/tmp/fpA/fake-cosyvoice/cosyvoice/cli/cosyvoice.py', [319, 315, 288, 189, 173, 149]);
    const b = crashTraceback('/srv/chorus/runners/cosyvoice_runner.py', '/srv/CosyVoice/cosyvoice/cli/cosyvoice.py', [321, 317, 290, 204, 181, 160]);
    const c = crashTraceback('D:\\chorus\\runners\\cosyvoice_runner.py', 'D:\\CosyVoice\\cosyvoice\\cli\\cosyvoice.py', [1, 2, 3, 4, 5, 6]);
    expect(fp('ENGINE_CRASHED', a)).toBe(fp('ENGINE_CRASHED', b));
    expect(fp('ENGINE_CRASHED', a)).toBe(fp('ENGINE_CRASHED', c));
    // The error message the command engine builds from it (outcome.ts failedExitError).
    expect(fp('ENGINE_CRASHED', '/usr/bin/python3 cosyvoice_runner.py exited with code 1: ValueError: fake flow decoder failed on purpose (CRASH in the text).')).toBe(
      fp('ENGINE_CRASHED', '/opt/py/bin/python3 cosyvoice_runner.py exited with code 1: ValueError: fake flow decoder failed on purpose (CRASH in the text).'),
    );
  });

  it('tells apart different codes, engines, stages and causes', () => {
    const message = 'The GPU ran out of memory.';
    const base = fp('GPU_OOM', message);
    expect(fp('ENGINE_CRASHED', message)).not.toBe(base);
    expect(fp('GPU_OOM', message, 'cosyvoice2-http')).not.toBe(base);
    expect(fp('GPU_OOM', message, 'cosyvoice3-cmd', 'load_model')).not.toBe(base);
    expect(fp('GPU_OOM', message, 'cosyvoice3-cmd', null)).not.toBe(base);
    expect(fp('ENGINE_CRASHED', 'ValueError: fake flow decoder failed')).not.toBe(fp('ENGINE_CRASHED', 'KeyError: fake flow decoder failed'));
  });

  describe('property: what varies between runs never changes the fingerprint', () => {
    const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';
    const num = fc.oneof(fc.nat({ max: 1_000_000_000 }).map(String), fc.double({ min: 0, max: 1e6, noNaN: true }).map((x) => x.toFixed(2)));
    const lineNo = fc.nat({ max: 100_000 }).map(String);
    const size = fc.tuple(fc.double({ min: 0, max: 4096, noNaN: true }), fc.constantFrom('B', 'KiB', 'MiB', 'GiB', 'MB', 'GB', 'bytes')).map(([x, u]) => `${x.toFixed(2)} ${u}`);
    const hex = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }).map((n) => `0x${n.toString(16)}`);
    // The prefix belongs to the message (an upload id is always upl_…); the 26 characters vary.
    const chorusId = (prefix: 'job' | 'upl'): fc.Arbitrary<string> =>
      fc.array(fc.constantFrom(...CROCKFORD), { minLength: 26, maxLength: 26 }).map((chars) => `${prefix}_${chars.join('')}`);
    const sha = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => createHash('sha256').update(bytes).digest('hex'));
    const segment = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,11}$/);
    const posixPath = fc.array(segment, { minLength: 1, maxLength: 6 }).map((s) => `/${s.join('/')}`);
    const windowsPath = fc.tuple(fc.constantFrom('C', 'D', 'e'), fc.array(segment, { minLength: 1, maxLength: 6 })).map(([d, s]) => `${d}:\\${s.join('\\')}`);
    const path = fc.oneof(posixPath, windowsPath);
    const quoted = fc.stringMatching(/^[^"\n]{0,30}$/).map((t) => `"${t}"`);

    /** Message shapes the engines produce, each with the kinds of value that vary in its slots. */
    const templates: Array<{ code: JobErrorCode; parts: string[]; slots: Array<fc.Arbitrary<string>> }> = [
      { code: 'GPU_OOM', parts: ['CUDA out of memory. Tried to allocate ', ' (GPU ', '; ', ' total capacity; ', ' already allocated)'], slots: [size, num, size, size] },
      { code: 'PROMPT_MISSING', parts: ['Reference audio upload ', ' no longer exists.'], slots: [chorusId('upl')] },
      { code: 'ENGINE_UNAVAILABLE', parts: ['Cannot start ', ': its working directory ', ' does not exist.'], slots: [path, path] },
      { code: 'ENGINE_CRASHED', parts: ['Traceback (most recent call last):\n  File "', '", line ', ', in _tts\n    raise ValueError(', ')\nValueError: fake flow decoder failed (object at ', ', sha256 ', ')'], slots: [path, lineNo, quoted, hex, sha] },
      { code: 'ENGINE_FAILED', parts: ['Unexpected engine failure: job ', ' read ', ' from ', ' after ', ' s'], slots: [chorusId('job'), size, path, num] },
    ];

    for (const t of templates) {
      it(`${t.code}: ${t.parts[0]!.split('\n')[0]}…`, () => {
        const fill = fc.tuple(...t.slots);
        const render = (values: string[]): string => t.parts.map((p, i) => p + (values[i] ?? '')).join('');
        fc.assert(
          fc.property(fill, fill, (a, b) => fp(t.code, render(a)) === fp(t.code, render(b))),
          { numRuns: 300 },
        );
      });
    }
  });
});
