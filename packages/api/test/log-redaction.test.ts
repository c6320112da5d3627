import { describe, expect, it } from 'vitest';
import { redactLogMessage } from '../src/index.ts';

// The messages below use the command engine's own formats, copied from its source (apps/inference
// cannot be imported from here: it depends on this package). Keep them in step with:
//   engines/command/run.ts      `Started ${config.command.join(' ')} (pid ${proc.pid}).`
//                               `Cannot start ${program}: its working directory ${cwd} does not exist.`
//   engines/command/outcome.ts  lastLinesLog: `Last ${n} line(s) of output from ${program}:\n${lines}`
//   engines/command/probe.ts    `The command's program ${program} does not exist or is not executable.`
//   worker/run-job.ts           `${stage} failed: ${e.message}`
//   worker/worker.ts            `Engine "${engineId}" is unreachable (${downReason}); this job waits in the queue until it is back.`
// apps/inference/test/log-redaction.test.ts runs the real engine and checks its actual output.
const started = (argv: string[], pid: number): string => `Started ${argv.join(' ')} (pid ${pid}).`;
const lastLines = (program: string, lines: string[]): string => `Last ${lines.length} line(s) of output from ${program}:\n${lines.join('\n')}`;

describe('redactLogMessage', () => {
  it('hides the whole command line and pid of the "Started" line', () => {
    const argv = ['/opt/chorus/.venv/bin/python3', '/opt/chorus/apps/inference/runners/cosyvoice_runner.py', '--model-dir', '/models/Fun-CosyVoice3-0.5B', '--fp16', '--cosyvoice-repo', '/home/ops/Cosy Voice'];
    expect(redactLogMessage(started(argv, 48213))).toBe('Started [command] ([pid]).');
    expect(redactLogMessage(started(['python3', 'runner.py'], 7))).toBe('Started [command] ([pid]).');
  });

  it('hides pids in their usual spellings', () => {
    expect(redactLogMessage('fake model hanging; helper process pid 91237')).toBe('fake model hanging; helper process [pid]');
    expect(redactLogMessage('worker (pid=123) and PID 456, pid: 789')).toBe('worker ([pid]) and [pid], [pid]');
    expect(redactLogMessage('Process 2847 has 23.67 GiB memory in use.')).toBe('Process [pid] has 23.67 GiB memory in use.');
  });

  it('keeps only the file name of the paths in a traceback', () => {
    const traceback = [
      'Traceback (most recent call last):',
      '  File "/srv/chorus/apps/inference/runners/cosyvoice_runner.py", line 288, in run',
      "    for output in method(*call_args, stream=False, speed=float(job['speed'])):",
      '  File "/home/ops/CosyVoice/cosyvoice/cli/cosyvoice.py", line 149, in _tts',
      "    raise ValueError('fake flow decoder failed on purpose (CRASH in the text)')",
      '  File "C:\\Program Files\\Python311\\Lib\\wave.py", line 631, in open',
      '  File "<frozen importlib._bootstrap>", line 1176, in _find_and_load',
      "FileNotFoundError: [Errno 2] No such file or directory: '/tmp/chorus-command-x1Yz/prompt.wav'",
    ].join('\n');
    expect(redactLogMessage(traceback)).toBe(
      [
        'Traceback (most recent call last):',
        '  File "…/cosyvoice_runner.py", line 288, in run',
        "    for output in method(*call_args, stream=False, speed=float(job['speed'])):",
        '  File "…/cosyvoice.py", line 149, in _tts',
        "    raise ValueError('fake flow decoder failed on purpose (CRASH in the text)')",
        '  File "…\\wave.py", line 631, in open',
        '  File "<frozen importlib._bootstrap>", line 1176, in _find_and_load',
        "FileNotFoundError: [Errno 2] No such file or directory: '…/prompt.wav'",
      ].join('\n'),
    );
  });

  it('redacts paths in the engine’s and worker’s failure lines, warnings and runner logs', () => {
    expect(redactLogMessage('synthesis failed: Cannot start /opt/venv/bin/python3: its working directory /srv/cv3 does not exist.')).toBe(
      'synthesis failed: Cannot start …/python3: its working directory …/cv3 does not exist.',
    );
    expect(
      redactLogMessage('Engine "cv3" is unreachable (The command\'s program /opt/venv/bin/python3 does not exist or is not executable.); this job waits in the queue until it is back.'),
    ).toBe('Engine "cv3" is unreachable (The command\'s program …/python3 does not exist or is not executable.); this job waits in the queue until it is back.');
    expect(redactLogMessage('loading the model from /models/Fun-CosyVoice3-0.5B')).toBe('loading the model from …/Fun-CosyVoice3-0.5B');
    expect(redactLogMessage('/usr/lib/python3/site-packages/torch/nn/utils/weight_norm.py:143: FutureWarning: deprecated')).toBe('…/weight_norm.py:143: FutureWarning: deprecated');
    expect(redactLogMessage('cache in ~/.cache/modelscope/hub, share \\\\gpu2\\models\\cv3.pt, dir D:/data/')).toBe('cache in …/hub, share …\\cv3.pt, dir [path]');
    expect(redactLogMessage(lastLines('python3 cosyvoice_runner.py', ['line 1', 'wrote /tmp/chorus-command-abc/output.wav', 'done']))).toBe(
      'Last 3 line(s) of output from python3 cosyvoice_runner.py:\nline 1\nwrote …/output.wav\ndone',
    );
  });

  it('leaves URLs, fractions, progress bars and ordinary text alone', () => {
    const untouched = [
      'The CosyVoice server rejected http://gpu2:50000/inference_zero_shot (HTTP 422).',
      ' 67%|██████▋   | 2/3 [00:01<00:00, 1.52it/s]',
      'Measured speaking rate 4.2 syllables/s; 3/4 of frames voiced; and/or 2026/12/02.',
      "The engine's model isn't loaded; rapid 5 steps.",
      'Done: 2.10 s of audio in 0.84 s (real-time factor 0.400).',
    ];
    for (const line of untouched) expect(redactLogMessage(line)).toBe(line);
  });

  it('is idempotent', () => {
    const samples = [
      started(['/usr/bin/python3', '/x/y.py'], 1),
      '  File "/a b/c.py", line 1, in f\nOSError: /dev/nvidia0 busy (pid 3)',
      'C:\\Users\\ops\\x.py and /etc/hosts',
    ];
    for (const s of samples) expect(redactLogMessage(redactLogMessage(s))).toBe(redactLogMessage(s));
  });
});
