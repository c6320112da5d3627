import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// A stand-in for CosyVoice's FastAPI runtime (the real protocol; there is no GPU or model here).
import { startFastApiStandin, type FastApiStandin } from '../../inference/test/standins/fastapi-standin.ts';
import { signIn, TEST_ADMIN, testAdminEnv } from './helpers/auth.ts';
import { launchChromium } from './helpers/browser.ts';
import { referenceVoiceWav } from './helpers/referenceVoice.ts';
import { startServer, type RunningServer } from './helpers/server.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

let tmpDir = '';
let fastapi: FastApiStandin | undefined;
let server: RunningServer | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  tmpDir = await mkdtemp(path.join(os.tmpdir(), 'chorus-e2e-engines-'));
  fastapi = await startFastApiStandin({ sampleRate: 24000, generation: 3, segmentDelayMs: 30 });
  server = await startServer({
    repoRoot,
    tmpDir,
    env: {
      ...testAdminEnv(),
      CHORUS_ENGINES: JSON.stringify([
        { id: 'builtin', kind: 'builtin' },
        { id: 'cv3-http', kind: 'cosyvoice-http', generation: 3, model: 'Fun-CosyVoice3-0.5B', url: fastapi.url, name: 'CosyVoice3 (FastAPI)' },
      ]),
    },
  });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await server?.stop().catch(() => undefined);
  await fastapi?.close().catch(() => undefined);
  if (tmpDir) await rm(tmpDir, { recursive: true, force: true });
});

describe('a CosyVoice engine in the web UI', () => {
  it('can be picked, says its runs are not reproducible, and its job plays', async () => {
    const p = await browser!.newPage({ viewport: { width: 1280, height: 900 } });
    await signIn(p, server!.url, TEST_ADMIN);
    const picker = p.getByTestId('engine-select');
    await picker.waitFor();
    expect(await picker.locator('option').allTextContents()).toEqual([
      expect.stringContaining('Built-in'),
      expect.stringContaining('CosyVoice3 (FastAPI)'),
    ]);
    await expect.poll(() => p.getByTestId('engine-not-reproducible').count()).toBe(0);
    await picker.selectOption('cv3-http');
    await p.getByTestId('engine-not-reproducible').waitFor();

    await p.getByTestId('mode-zero_shot').check();
    await p.getByTestId('reference-file').setInputFiles({ name: 'reference.wav', mimeType: 'audio/wav', buffer: Buffer.from(referenceVoiceWav()) });
    await p.locator('[data-testid="upload-status"][data-phase="uploaded"]').waitFor({ timeout: 30_000 });
    await p.getByTestId('text-input').fill('你好。This runs on the CosyVoice engine.');
    await p.getByTestId('transcript-input').fill('A reference voice.');
    await p.getByTestId('generate').click();
    await p.waitForURL(/#\/jobs\/[^/]+$/, { timeout: 15_000 });

    await p.locator('[data-testid="job-status"][data-status="succeeded"]').waitFor({ timeout: 60_000 });
    expect(await p.getByTestId('not-reproducible').textContent()).toMatch(/not reproducible/);
    expect(await p.getByTestId('input-engine').textContent()).toContain('cosyvoice-http');
    const src = await p.getByTestId('job-audio').getAttribute('src');
    expect(src).toBeTruthy();
    expect(fastapi!.requests.at(-1)?.path).toBe('/inference_zero_shot');
    await p.close();
  });
});
