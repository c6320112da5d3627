import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../src/engine/engine.ts';
import { parseChorusLine } from '../src/engines/command/chorus-protocol.ts';
import { CommandEventMapper } from '../src/engines/command/event-mapper.ts';
import { LineSplitter } from '../src/engines/command/line-splitter.ts';
import { CommandOutputParser, classifyLine, type OutputItem, type OutputStream } from '../src/engines/command/output-parser.ts';
import { parsePythonLogLine } from '../src/engines/command/python-log.ts';
import { TracebackCollector } from '../src/engines/command/traceback.ts';
import { TqdmTracker, parseTqdmLine } from '../src/engines/command/tqdm.ts';

// Literal samples as tqdm, Python logging and the interpreter print them.

describe('LineSplitter', () => {
  it('ends lines at \\n, \\r\\n and a lone \\r (tqdm redraws), also across chunks', () => {
    const s = new LineSplitter();
    expect(s.push('a\nb\r\nc\rd')).toEqual(['a', 'b', 'c']);
    expect(s.push('e\r')).toEqual(['de']);
    expect(s.push('\nf')).toEqual([]); // the \n of a split \r\n ends nothing new
    expect(s.end()).toEqual(['f']);
    expect(s.end()).toEqual([]);
  });

  it('caps an overlong line and says how much it cut', () => {
    const s = new LineSplitter(10);
    expect(s.push('x'.repeat(25))).toEqual([]);
    expect(s.push('y\nshort\n')).toEqual([`${'x'.repeat(10)} … [16 more characters cut]`, 'short']);
  });
});

describe('tqdm bars', () => {
  it.each([
    ['  0%|          | 0/3 [00:00<?, ?it/s]', { desc: '', step: 0, total: 3, etaMs: null }],
    [' 45%|████▌     | 9/20 [00:03<00:04,  2.50it/s]', { desc: '', step: 9, total: 20, etaMs: 4000 }],
    ['100%|██████████| 20/20 [00:08<00:00,  2.45it/s]', { desc: '', step: 20, total: 20, etaMs: 0 }],
    ['synthesis: 45%|████▌     | 9/20 [00:03<00:04,  2.50it/s]', { desc: 'synthesis', step: 9, total: 20, etaMs: 4000 }],
    [' 33%|███▎      | 1/3 [00:12<00:24, 12.01s/it]', { desc: '', step: 1, total: 3, etaMs: 24_000 }],
    ['Loading: 50%|#####     | 5/10 [1:00:00<1:02:03,  1.50s/it, loss=0.3]', { desc: 'Loading', step: 5, total: 10, etaMs: 3_723_000 }],
    [' 12%|█▏        | 1.20k/10.0k [00:01<00:09, 1.1kit/s]', { desc: '', step: 1200, total: 10_000, etaMs: 9000 }],
  ])('%s', (line, bar) => {
    expect(parseTqdmLine(line)).toEqual({ bar, rest: '' });
  });

  it('returns what follows a bar on the same line (tqdm writes no newline after a redraw)', () => {
    const line = ' 33%|███▎      | 1/3 [00:00<00:00, 90.54it/s]2025-01-01 12:00:00,123 WARNING synthesis text Hi. too short than prompt text';
    expect(parseTqdmLine(line)?.rest).toBe('2025-01-01 12:00:00,123 WARNING synthesis text Hi. too short than prompt text');
  });

  it('ignores bars without a total and lines that only look similar', () => {
    expect(parseTqdmLine('9it [00:03,  2.50it/s]')).toBeNull();
    expect(parseTqdmLine('loss 45% | 9/20 done')).toBeNull();
    expect(parseTqdmLine('progress: 45%')).toBeNull();
  });

  it('tracks each bar monotonically, drops identical redraws and restarts at 0', () => {
    const t = new TqdmTracker();
    const bar = (step: number, total = 3, desc = '') => ({ desc, step, total, etaMs: null });
    expect([0, 0, 1, 1, 3, 2, 3, 0, 1].map((s) => t.accept(bar(s))?.step ?? null)).toEqual([0, null, 1, null, 3, null, null, 0, 1]);
    expect(t.accept(bar(0, 5, 'other'))?.step).toBe(0);
  });
});

describe('Python logging lines', () => {
  it.each([
    ['DEBUG:root:cache miss', 'debug', 'cache miss'],
    ['INFO:cosyvoice.cli.frontend:use wetext frontend', 'info', 'cosyvoice.cli.frontend: use wetext frontend'],
    ['WARNING:root:synthesis text A too short than prompt text B', 'warn', 'synthesis text A too short than prompt text B'],
    ['ERROR:root:boom: with a colon', 'error', 'boom: with a colon'],
    ['CRITICAL:root:dead', 'error', 'dead'],
    ['2025-01-01 12:00:00,123 WARNING message', 'warn', 'message'],
    ['2025-01-01 12:00:00,123 INFO synthesis text 你好。', 'info', 'synthesis text 你好。'],
    ['2025-01-01 12:00:00,123 - cosyvoice - ERROR - failed', 'error', 'cosyvoice: failed'],
    ['2025-01-01T12:00:00.123Z [WARN] iso', 'warn', 'iso'],
    ['[2025-01-01 12:00:00] [FATAL] gone', 'error', 'gone'],
    ['[WARNING] msg', 'warn', 'msg'],
    ['[ERROR/onnxruntime] session failed', 'error', 'onnxruntime: session failed'],
    ['INFO:     Started server process [123]', 'info', 'Started server process [123]'],
    ['/opt/x/lib.py:12: UserWarning: torch.meshgrid: in an upcoming release', 'warn', '/opt/x/lib.py:12: UserWarning: torch.meshgrid: in an upcoming release'],
  ])('%s', (line, level, message) => {
    expect(parsePythonLogLine(line)).toEqual({ level, message });
  });

  it('leaves other lines alone', () => {
    for (const line of ['hello world', 'Information: nothing', 'ERRORS: 0', '2025-01-01 12:00:00 just a date', 'WARNING no colon']) {
      expect(parsePythonLogLine(line)).toBeNull();
    }
  });
});

describe('tracebacks', () => {
  const simple = [
    'Traceback (most recent call last):',
    '  File "/opt/runner.py", line 10, in <module>',
    '    main()',
    '  File "/opt/runner.py", line 5, in main',
    "    assert speech.shape[1] / 16000 <= 30, 'do not support extract speech token for audio longer than 30s'",
    '           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^',
    'AssertionError: do not support extract speech token for audio longer than 30s',
  ];

  it('collects the block from the header to the exception line, then passes other lines on', () => {
    const c = new TracebackCollector();
    const steps = [...simple, 'next line'].map((l) => c.push(l));
    expect(steps.slice(0, -1).every((s) => s.blocks.length === 0 && s.lines.length === 0)).toBe(true);
    expect(steps.at(-1)).toEqual({ blocks: [simple.join('\n')], lines: ['next line'] });
    expect(c.pending).toBe(false);
  });

  it('keeps a chained traceback in the same block, and flush() releases a held one', () => {
    const chained = [
      'Traceback (most recent call last):',
      '  File "x.py", line 1, in <module>',
      "KeyError: 'missing'",
      '',
      'The above exception was the direct cause of the following exception:',
      '',
      'Traceback (most recent call last):',
      '  File "x.py", line 3, in <module>',
      'RuntimeError: wrapped failure',
    ];
    const c = new TracebackCollector();
    for (const l of chained) expect(c.push(l).blocks).toEqual([]);
    expect(c.pending).toBe(true);
    expect(c.flush()).toEqual([chained.join('\n')]);
    expect(c.flush()).toEqual([]);
  });

  it('collapses a traceback on stderr into one item, also when it starts on a tqdm bar line', () => {
    const items: OutputItem[] = [];
    const p = new CommandOutputParser((i) => items.push(i));
    p.push('stderr', `\r 33%|███▎      | 1/3 [00:00<00:00, 90.54it/s]${simple.join('\n')}\n`);
    p.push('stdout', 'Traceback (most recent call last):\n');
    p.end('stdout');
    p.end('stderr');
    expect(items).toEqual([
      { kind: 'tqdm', bar: { desc: '', step: 1, total: 3, etaMs: 0 } },
      { kind: 'log', level: 'info', message: 'Traceback (most recent call last):' },
      { kind: 'traceback', text: simple.join('\n') },
    ]);
  });
});

describe('@chorus lines', () => {
  it('parses the three event types', () => {
    expect(parseChorusLine('@chorus {"type":"stage","name":"synthesis"}')).toEqual({ ok: true, event: { type: 'stage', name: 'synthesis' } });
    expect(parseChorusLine('@chorus {"type":"progress","step":3,"total":8,"eta_ms":4200}')).toEqual({
      ok: true,
      event: { type: 'progress', step: 3, total: 8, etaMs: 4200 },
    });
    expect(parseChorusLine('@chorus {"type":"progress","step":0,"total":8}')).toEqual({ ok: true, event: { type: 'progress', step: 0, total: 8, etaMs: null } });
    expect(parseChorusLine('@chorus {"type":"log","level":"warn","message":"hi"}')).toEqual({ ok: true, event: { type: 'log', level: 'warn', message: 'hi' } });
  });

  it('says why a line is malformed', () => {
    const reason = (line: string): string => {
      const r = parseChorusLine(line);
      return r.ok ? 'ok' : r.reason;
    };
    expect(reason('@chorus {oops')).toMatch(/^not JSON/);
    expect(reason('@chorus {"type":"progress","step":1}')).toMatch(/total/);
    expect(reason('@chorus {"type":"progress","step":5,"total":2}')).toMatch(/step must not exceed total/);
    expect(reason('@chorus {"type":"log","level":"loud","message":"x"}')).toMatch(/level/);
    expect(reason('@chorus {"type":"dance"}')).toMatch(/type/);
  });

  it('is recognised before anything else on the line', () => {
    expect(classifyLine('@chorus {"type":"stage","name":"x"}')).toEqual([{ kind: 'chorus', event: { type: 'stage', name: 'x' } }]);
    expect(classifyLine('   ')).toEqual([]);
    expect(classifyLine('plain words  ')).toEqual([{ kind: 'log', level: 'info', message: 'plain words' }]);
  });
});

describe('CommandEventMapper', () => {
  function map(chunks: [OutputStream, string][]): { events: EngineEvent[]; mapper: CommandEventMapper } {
    const events: EngineEvent[] = [];
    const mapper = new CommandEventMapper((e) => events.push(e));
    const parser = new CommandOutputParser((i) => mapper.handle(i));
    for (const [stream, text] of chunks) parser.push(stream, text);
    parser.end('stdout');
    parser.end('stderr');
    return { events, mapper };
  }

  it('gives a plain script the implicit synthesis stage at its first progress, and encoding at the end', () => {
    const { events, mapper } = map([
      ['stdout', 'loading\n'],
      ['stderr', '\r  0%|          | 0/2 [00:00<?, ?it/s]\r 50%|█████     | 1/2 [00:01<00:01,  1.00s/it]\r 50%|█████     | 1/2 [00:01<00:01,  1.00s/it]'],
      ['stderr', '\r100%|██████████| 2/2 [00:02<00:00,  1.00s/it]\r100%|██████████| 2/2 [00:02<00:00,  1.00s/it]\n'],
    ]);
    mapper.finish();
    expect(events).toEqual([
      { type: 'log', level: 'info', message: 'loading' },
      { type: 'stage', name: 'synthesis' },
      { type: 'progress', step: 0, total: 2, etaMs: null },
      { type: 'progress', step: 1, total: 2, etaMs: 1000 },
      { type: 'progress', step: 2, total: 2, etaMs: 0 },
      { type: 'stage', name: 'encoding' },
    ]);
    expect(mapper.declaresStages).toBe(false);
  });

  it('lets explicit @chorus progress win over tqdm within a stage, and maps new bars in the next stage', () => {
    const { events } = map([
      ['stdout', '@chorus {"type":"stage","name":"synthesis"}\n@chorus {"type":"progress","step":1,"total":4}\n'],
      ['stderr', '\r 50%|█████     | 2/4 [00:01<00:01,  1.00s/it]\n'],
      ['stdout', '@chorus {"type":"stage","name":"encoding"}\n'],
      // A late redraw of the old bar stays dropped; a new bar counts.
      ['stderr', '\r 50%|█████     | 2/4 [00:01<00:01,  1.00s/it]\r  0%|          | 0/2 [00:00<?, ?it/s]\n'],
    ]);
    expect(events).toEqual([
      { type: 'stage', name: 'synthesis' },
      { type: 'progress', step: 1, total: 4, etaMs: null },
      { type: 'stage', name: 'encoding' },
      { type: 'progress', step: 0, total: 2, etaMs: null },
    ]);
  });

  it('keeps the last 20 lines and the last exception for failure reports', () => {
    const lines = Array.from({ length: 25 }, (_, i) => `line ${i + 1}`).join('\n');
    const { mapper, events } = map([
      ['stdout', `${lines}\n`],
      ['stderr', 'Traceback (most recent call last):\n  File "x", line 1, in <module>\nValueError: bad\n'],
    ]);
    expect(events.filter((e) => e.type === 'log' && e.level === 'error')).toHaveLength(1);
    expect(mapper.recentLines()).toHaveLength(20);
    expect(mapper.recentLines().at(-1)).toBe('ValueError: bad');
    expect(mapper.lastException()).toBe('ValueError: bad');
    expect(mapper.diagnosticText()).toContain('line 25');
  });

  it('turns a malformed @chorus line into a warning that quotes it', () => {
    const { events } = map([['stdout', '@chorus {"type":"stage"}\n']]);
    expect(events).toEqual([{ type: 'log', level: 'warn', message: expect.stringContaining('@chorus {"type":"stage"}') }]);
    expect((events[0] as { message: string }).message).toMatch(/^Ignored a malformed @chorus line \(name:/);
  });
});
