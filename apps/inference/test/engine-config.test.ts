import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadEngineConfigs } from '../src/engines/config.ts';

const http = { id: 'cv-http', kind: 'cosyvoice-http', generation: 3, model: 'Fun-CosyVoice3-0.5B', url: 'http://gpu1:50000' };

describe('engine configuration', () => {
  it('defaults to the built-in engine alone', () => {
    expect(loadEngineConfigs({})).toEqual([{ id: 'builtin', kind: 'builtin', default: false, concurrency: 1 }]);
  });

  it('reads CHORUS_ENGINES inline and CHORUS_ENGINES_FILE, filling defaults', () => {
    const inline = loadEngineConfigs({ CHORUS_ENGINES: JSON.stringify([{ id: 'builtin', kind: 'builtin' }, http]) });
    expect(inline[1]).toMatchObject({ ...http, concurrency: 1, speakers: [], stallTimeoutMs: 60_000, maxTextChars: 2000, timeoutMs: 600_000 });
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-engines-')), 'engines.json');
    fs.writeFileSync(file, JSON.stringify([{ ...http, kind: 'cosyvoice-triton', id: 'trt' }]));
    expect(loadEngineConfigs({ CHORUS_ENGINES_FILE: file })[0]).toMatchObject({ id: 'trt', kind: 'cosyvoice-triton', tritonModel: 'cosyvoice2' });
  });

  it('says exactly what is wrong', () => {
    const fails = (value: string): string => {
      try {
        loadEngineConfigs({ CHORUS_ENGINES: value });
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('expected a configuration error');
    };
    expect(fails('[{')).toMatch(/^Engine configuration in CHORUS_ENGINES is not valid JSON/);
    expect(fails('[]')).toMatch(/Configure at least one engine/);
    expect(fails(JSON.stringify([{ id: 'x', kind: 'gpu-magic' }]))).toMatch(/\[0\.kind\]/);
    expect(fails(JSON.stringify([{ ...http, url: 'not a url' }]))).toMatch(/\[0\.url\]/);
    expect(fails(JSON.stringify([{ ...http, generation: 4 }]))).toMatch(/\[0\.generation\]/);
    expect(fails(JSON.stringify([http, http]))).toMatch(/Engine id "cv-http" is used twice/);
    expect(fails(JSON.stringify([{ id: 'Bad Id', kind: 'builtin' }]))).toMatch(/Engine id must be 1–64 characters/);
    expect(fails(JSON.stringify([{ ...http, default: true }, { id: 'b', kind: 'builtin', default: true }]))).toMatch(/At most one engine may be the default/);
    expect(fails(JSON.stringify([{ id: 'cmd', kind: 'command', generation: 3, model: 'm', command: [] }]))).toMatch(/command must name the program/);
    expect(() => loadEngineConfigs({ CHORUS_ENGINES_FILE: '/nonexistent/engines.json' })).toThrow(/cannot read \/nonexistent\/engines.json/);
  });
});
