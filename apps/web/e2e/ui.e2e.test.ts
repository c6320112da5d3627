import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, TEST_ADMIN, testAdminEnv } from './helpers/auth.ts';
import { launchChromium } from './helpers/browser.ts';
import { referenceVoiceWav } from './helpers/referenceVoice.ts';
import { startServer, type RunningServer } from './helpers/server.ts';

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(webDir, '../..');
const distIndex = path.join(webDir, 'dist/index.html');
const screenshotPath = path.join(webDir, 'artifacts/job-page.png');

/** What the job page showed at one moment (recorded in the page on every DOM change). */
interface Sample {
  t: number;
  progress: number | null;
  logLines: number;
  status: string | null;
}

let tmpDir = '';
let server: RunningServer | undefined;
let browser: Browser | undefined;
let page: Page | undefined;
const pageProblems: string[] = [];

/** Context for a failed expectation: what the browser and the server said. */
const diagnostics = (): string =>
  `\n--- browser problems ---\n${pageProblems.join('\n') || '(none)'}\n--- server output (tail) ---\n${server?.output().slice(-6000) ?? '(not started)'}`;

beforeAll(async () => {
  if (!existsSync(distIndex)) {
    throw new Error(`${distIndex} is missing: build the web app first (cd apps/web && npx vite build).`);
  }
  tmpDir = await mkdtemp(path.join(os.tmpdir(), 'chorus-e2e-'));
  server = await startServer({ repoRoot, tmpDir, env: testAdminEnv() });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (err) => pageProblems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') pageProblems.push(`console.${msg.type()}: ${msg.text()}`);
  });
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  await server?.stop().catch(() => undefined);
  if (tmpDir) await rm(tmpDir, { recursive: true, force: true });
});

describe('Chorus web UI', () => {
  it('submits a zero-shot job, streams its progress and log, plays the result and lists it in History', async () => {
    const p = page!;
    const base = server!.url;

    // --- Sign in (the form is behind it), then the new job form --------------------------
    await signIn(p, base, TEST_ADMIN);
    await p.getByTestId('generate').waitFor();
    await p.getByTestId('mode-zero_shot').check();
    await p.getByTestId('reference-file').setInputFiles({ name: 'reference.wav', mimeType: 'audio/wav', buffer: Buffer.from(referenceVoiceWav()) });
    const upload = p.getByTestId('upload-status');
    await upload.and(p.locator('[data-phase="uploaded"], [data-phase="failed"]')).waitFor({ timeout: 30_000 });
    expect(await upload.getAttribute('data-phase'), `upload failed: ${await upload.textContent()}${diagnostics()}`).toBe('uploaded');
    expect(await p.getByTestId('upload-facts').textContent()).toMatch(/3\.0 s · 24 kHz · WAV/);

    await p.getByTestId('text-input').fill('Hello from the Chorus browser test. This sentence is long enough to take a little while to speak.');
    await p.getByTestId('transcript-input').fill('ah ee oh ah ee oh ah ee oh ah ee oh');

    // Record what the job page shows on every DOM change, from before Generate is pressed.
    await p.evaluate(() => {
      const samples: Sample[] = [];
      (window as unknown as { __samples: Sample[] }).__samples = samples;
      const start = performance.now();
      const record = (): void => {
        const bar = document.querySelector<HTMLProgressElement>('[data-testid="progress-bar"]');
        const sample: Sample = {
          t: performance.now() - start,
          progress: bar ? bar.value : null,
          logLines: document.querySelectorAll('[data-testid="log-line"]').length,
          status: document.querySelector('[data-testid="job-status"]')?.getAttribute('data-status') ?? null,
        };
        const last = samples.at(-1);
        if (!last || last.progress !== sample.progress || last.logLines !== sample.logLines || last.status !== sample.status) samples.push(sample);
      };
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    });

    await p.getByTestId('generate').click();
    await p.waitForURL(/#\/jobs\/[^/]+$/, { timeout: 15_000 }).catch(async () => {
      throw new Error(`Generate did not open a job page; form says: ${await p.getByTestId('form-error').textContent().catch(() => '(no error shown)')}${diagnostics()}`);
    });
    const jobId = decodeURIComponent(new URL(p.url()).hash.replace(/^#\/jobs\//, ''));
    expect(jobId).toMatch(/^job_/);

    // --- Job page: live progress until success ------------------------------------------
    const status = p.getByTestId('job-status');
    await status.and(p.locator('[data-status="succeeded"], [data-status="failed"], [data-status="canceled"]')).waitFor({ timeout: 100_000 });
    const finalStatus = await status.getAttribute('data-status');
    if (finalStatus !== 'succeeded') {
      const error = await p.getByTestId('job-error').textContent().catch(() => '(no error panel)');
      throw new Error(`Job ended ${finalStatus}: ${error}${diagnostics()}`);
    }

    const samples = await p.evaluate(() => (window as unknown as { __samples: Sample[] }).__samples);
    const progressValues = samples.map((s) => s.progress).filter((v): v is number => v !== null);
    const increased = progressValues.some((v, i) => progressValues.slice(0, i).some((earlier) => v > earlier));
    expect(increased, `progress bar never increased; values seen: ${progressValues.join(', ')}`).toBe(true);
    const logCounts = samples.map((s) => s.logLines);
    expect(Math.max(...logCounts), 'the log gained no lines').toBeGreaterThan(Math.min(...logCounts));
    expect(samples.map((s) => s.status)).toContain('running');
    expect(await p.getByTestId('log-line').count()).toBeGreaterThanOrEqual(3);
    expect(await p.getByTestId('stage-name').textContent()).not.toBe('');
    expect(await p.getByTestId('progress-text').textContent()).toMatch(/\d+\/\d+.*%/);
    expect(await p.getByTestId('seed-value').textContent()).toMatch(/^\d+$/);

    // --- The result is playable ---------------------------------------------------------
    const audio = p.getByTestId('job-audio');
    const src = await audio.getAttribute('src');
    expect(src, 'the <audio> element has no src').toBeTruthy();
    // Audio needs the session too: fetch it with the browser's cookies.
    const res = await p.context().request.get(new URL(src!, base).toString());
    expect(res.status()).toBe(200);
    const wav = new Uint8Array(await res.body());
    expect(new TextDecoder().decode(wav.subarray(0, 4))).toBe('RIFF');
    expect(new TextDecoder().decode(wav.subarray(8, 12))).toBe('WAVE');
    const readyState = await audio.evaluate(
      (el: HTMLAudioElement) =>
        new Promise<number>((resolve) => {
          if (el.readyState >= 1) return resolve(el.readyState);
          const done = (): void => resolve(el.readyState);
          el.addEventListener('loadedmetadata', done, { once: true });
          el.addEventListener('canplay', done, { once: true });
          el.addEventListener('error', done, { once: true });
          el.load();
          setTimeout(done, 10_000);
        }),
    );
    expect(readyState, 'the browser could not load the audio').toBeGreaterThanOrEqual(1);
    expect(await p.getByTestId('download-link').getAttribute('href')).toContain('download=1');

    await mkdir(path.dirname(screenshotPath), { recursive: true });
    await p.evaluate(() => window.scrollTo(0, 0));
    await p.screenshot({ path: screenshotPath, fullPage: true });

    // --- History lists the job ----------------------------------------------------------------
    await p.getByTestId('nav-history').click();
    const row = p.locator(`[data-testid="history-row"][data-job-id="${jobId}"]`);
    await row.waitFor({ timeout: 15_000 });
    expect(await row.getAttribute('data-status')).toBe('succeeded');
    expect(await row.textContent()).toContain('Hello from the Chorus browser test');

    // --- The account page lists the reference audio, in use by that job (so not deletable) ---
    await p.getByTestId('nav-account').click();
    const uploadRow = p.locator('[data-testid="upload-row"]').filter({ hasText: 'reference.wav' });
    await uploadRow.waitFor({ timeout: 15_000 });
    expect(await uploadRow.getAttribute('data-jobs')).toBe('1');
    expect(await uploadRow.textContent()).toMatch(/3\.0 s · 24 kHz/);
    expect(await uploadRow.getByTestId('delete-upload').count()).toBe(0);
    await p.screenshot({ path: path.join(path.dirname(screenshotPath), 'account-page.png'), fullPage: true });

    expect(pageProblems.filter((m) => m.startsWith('pageerror')), diagnostics()).toEqual([]);
  });
});
