import { describe, expect, it } from 'vitest';
import { redactLogMessage } from '../src/index.ts';
import { redactJobEvent, redactJobSummary } from '../src/services/job-event-redaction.ts';
import type { JobSummary } from '../src/schemas/job.ts';

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

  it('leaves plain URLs (their path is an endpoint, not a file), fractions, progress bars, token counts and ordinary text alone', () => {
    const untouched = [
      'The CosyVoice server rejected http://gpu2:50000/inference_zero_shot (HTTP 422).',
      'Cannot reach Triton at https://triton.internal:8000/base (model cosyvoice2): connection refused (ECONNREFUSED).',
      'generate(max_new_tokens=2048, token_hop_len=25); speech tokens: 250; hf_hub_download(repo) done.',
      'numpy@1.26 pinned; @torch.inference_mode() applied.',
      ' 67%|██████▋   | 2/3 [00:01<00:00, 1.52it/s]',
      'Measured speaking rate 4.2 syllables/s; 3/4 of frames voiced; and/or 2026/12/02.',
      "The engine's model isn't loaded; rapid 5 steps.",
      'Done: 2.10 s of audio in 0.84 s (real-time factor 0.400).',
    ];
    for (const line of untouched) expect(redactLogMessage(line)).toBe(line);
  });

  it('strips userinfo, query and fragment from URLs, keeping scheme://host:port/path', () => {
    const url = 'http://svc:p4ssw0rd@127.0.0.1:9/base?api_key=SECRETKEY';
    // The worker's line, built from the engine's health message (worker/worker.ts), with undici's refusal in it.
    const line = `Engine "remote" is unreachable (Cannot reach the CosyVoice FastAPI runtime at ${url}: Request cannot be constructed from a URL that includes credentials: ${url}/docs); this job waits in the queue until it is back.`;
    expect(redactLogMessage(line)).toBe(
      'Engine "remote" is unreachable (Cannot reach the CosyVoice FastAPI runtime at http://127.0.0.1:9/base: Request cannot be constructed from a URL that includes credentials: http://127.0.0.1:9/base); this job waits in the queue until it is back.',
    );
    expect(redactLogMessage('GET https://user@gpu1/v2/health/ready#frag, redis://:pw@cache:6379/0 and (http://h/x?token=abc).')).toBe(
      'GET https://gpu1/v2/health/ready, redis://cache:6379/0 and (http://h/x).',
    );
    // A password with an @ in it: the host is what follows the last one.
    expect(redactLogMessage('at http://svc:p@ss@gpu2:50000/')).toBe('at http://gpu2:50000/');
    // A file: URL's path is a file path.
    expect(redactLogMessage('loading file:///opt/models/cv3/model.pt')).toBe('loading file://…/model.pt');
  });

  it('masks the values of secret-looking key=value / key: value pairs', () => {
    expect(redactLogMessage('token=hf_SECRETTOKEN123 user alice@corp')).toBe('token=[redacted] user [email]');
    expect(redactLogMessage('HF_TOKEN=abc123 api-key: zzz x-api-key=q client_secret=s DB_PASSWORD=pw passwd=1 secret_key=k apikey=3 bearer=b')).toBe(
      'HF_TOKEN=[redacted] api-key: [redacted] x-api-key=[redacted] client_secret=[redacted] DB_PASSWORD=[redacted] passwd=[redacted] secret_key=[redacted] apikey=[redacted] bearer=[redacted]',
    );
    expect(redactLogMessage('{"hf_token": "hf_abcdefghijklmnop", "max_new_tokens": 2048}')).toBe('{"hf_token": "[redacted]", "max_new_tokens": 2048}');
    expect(redactLogMessage("config={'password': 'hunter2hunter2', 'seed': 1}")).toBe("config={'password': '[redacted]', 'seed': 1}");
  });

  it('masks Authorization headers and Bearer tokens', () => {
    expect(redactLogMessage('Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjF9.sig')).toBe('Authorization: [redacted]');
    expect(redactLogMessage('curl -H "Authorization: Basic dXNlcjpwYXNz" http://h')).toBe('curl -H "Authorization: [redacted]" http://h');
    expect(redactLogMessage('retrying with Bearer abc.def-ghi/jkl== now')).toBe('retrying with Bearer [redacted] now');
  });

  it('masks Hugging Face and Chorus tokens on their own, and e-mail addresses', () => {
    expect(redactLogMessage('401 for hf_abcdefghijklmnopqrstuvwxyz012345 on the hub')).toBe('401 for hf_[redacted] on the hub');
    expect(redactLogMessage('using chorus_pat_AbCdEf0123456789-xyz')).toBe('using chorus_pat_[redacted]');
    expect(redactLogMessage('owner bob.smith+tts@mail.example.com, cc alice@corp.')).toBe('owner [email], cc [email].');
  });

  it('is idempotent', () => {
    const samples = [
      started(['/usr/bin/python3', '/x/y.py'], 1),
      '  File "/a b/c.py", line 1, in f\nOSError: /dev/nvidia0 busy (pid 3)',
      'C:\\Users\\ops\\x.py and /etc/hosts',
      'at http://svc:pw@h:9/base?api_key=K#f). token=hf_SECRETTOKEN123 user alice@corp',
      'Authorization: Bearer abcdefgh12345678, {"api_key": "x"}, hf_abcdefghijklmnop, file:///opt/a/b.pt, file:///',
    ];
    for (const s of samples) expect(redactLogMessage(redactLogMessage(s))).toBe(redactLogMessage(s));
  });
});

describe('redactJobEvent / redactJobSummary', () => {
  const secret = 'see /srv/cv/run.log; token=hf_SECRETTOKEN123 owner alice@corp';
  const clean = 'see …/run.log; token=[redacted] owner [email]';

  it('redacts a log line, an error’s message and hint, and a status reason', () => {
    expect(redactJobEvent({ seq: 1, at: 'now', type: 'log', level: 'info', message: secret })).toMatchObject({ message: clean });
    expect(redactJobEvent({ seq: 2, at: 'now', type: 'error', code: 'ENGINE_FAILED', message: secret, hint: secret, stage: 'synthesis' })).toEqual({
      seq: 2,
      at: 'now',
      type: 'error',
      code: 'ENGINE_FAILED',
      message: clean,
      hint: clean,
      stage: 'synthesis',
    });
    expect(redactJobEvent({ seq: 3, at: 'now', type: 'status', status: 'queued', reason: secret })).toEqual({ seq: 3, at: 'now', type: 'status', status: 'queued', reason: clean });
    // Without a hint or reason none is added.
    expect(redactJobEvent({ seq: 4, at: 'now', type: 'status', status: 'running' })).toEqual({ seq: 4, at: 'now', type: 'status', status: 'running' });
    expect('hint' in redactJobEvent({ seq: 5, at: 'now', type: 'error', code: 'ENGINE_FAILED', message: 'x' })).toBe(false);
  });

  it('redacts a summary’s error message and hint', () => {
    const job = { id: 'job_x', errorMessage: secret, errorHint: secret, text: 'mail me at alice@corp' } as unknown as JobSummary;
    expect(redactJobSummary(job)).toEqual({ id: 'job_x', errorMessage: clean, errorHint: clean, text: 'mail me at alice@corp' });
    const fine = { id: 'job_y', errorMessage: null, errorHint: null } as unknown as JobSummary;
    expect(redactJobSummary(fine)).toEqual(fine);
  });
});
