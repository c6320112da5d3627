import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD_RULE } from '@chorus/api/schemas';
import { signIn } from './helpers/auth.ts';
import { launchChromium } from './helpers/browser.ts';
import { startServer, type RunningServer } from './helpers/server.ts';

/**
 * A team in the browser, from an empty server: the first admin through the setup link, a
 * member and a viewer through invite links, a member's run that fails on a GPU engine, the
 * admin's review of it (live, retried, resolved with a note), what a viewer cannot see, and
 * a deactivated member's open page going to the sign-in page.
 */

const webDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = path.resolve(webDir, '../..');
const artifacts = path.join(webDir, 'artifacts');
const failingEngineScript = path.join(webDir, 'e2e/fixtures/gpu_oom_engine.py');

const ADMIN = { email: 'ada@chorus.test', name: 'Ada Admin', password: 'ada-admin-password' };
const MEMBER = { email: 'mia@chorus.test', name: 'Mia Member', password: 'mia-member-password' };
const VIEWER = { email: 'vic@chorus.test', name: 'Vic Viewer', password: 'vic-viewer-password' };
const RESOLUTION_NOTE = 'Lowered the GPU engine’s concurrency to 1; the card was shared with training.';

const ENGINES = [
  { id: 'builtin', kind: 'builtin', default: true },
  {
    id: 'gpu-oom',
    kind: 'command',
    name: 'Busy GPU',
    generation: 2,
    model: 'CosyVoice2-0.5B',
    modes: ['pretrained'],
    speakers: [{ id: 'spk_en', name: 'English voice', language: 'en' }],
    command: ['python3', failingEngineScript],
  },
];

let tmpDir = '';
let server: RunningServer | undefined;
let browser: Browser | undefined;
const contexts: BrowserContext[] = [];
const problems: string[] = [];
let adminPage: Page;
let memberPage: Page;
let memberJobId = '';
/** WebSockets the admin's page opened, in order (the socket must wait for sign-in). */
const adminSockets: string[] = [];

const diagnostics = (): string =>
  `\n--- browser problems ---\n${problems.join('\n') || '(none)'}\n--- server output (tail) ---\n${server?.output().slice(-6000) ?? '(not started)'}`;

/** A fresh browser profile (its own cookies), like another person's computer. */
async function newPerson(label: string): Promise<Page> {
  const context = await browser!.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (err) => problems.push(`[${label}] pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`[${label}] console.error: ${msg.text()}`);
  });
  return page;
}

/** The one-time setup link the server logged, on this server's origin. */
async function setupLinkFromLog(): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const match = /\/#\/setup\?token=([A-Za-z0-9_-]+)/.exec(server!.output());
    if (match) return `${server!.url}/#/setup?token=${match[1]}`;
    if (Date.now() > deadline) throw new Error(`The server logged no setup link.${diagnostics()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** As the admin: create an invite for `role` on the Members page and read the link it shows once. */
async function inviteLink(role: 'member' | 'viewer'): Promise<string> {
  await adminPage.getByTestId('nav-members').click();
  await adminPage.getByTestId('invite-role-select').selectOption(role);
  await adminPage.getByTestId('create-invite').click();
  const link = adminPage.getByTestId('invite-link');
  await link.waitFor();
  const url = await link.inputValue();
  expect(url).toMatch(new RegExp(`^${server!.url.replace(/[.]/g, '\\.')}/#/invite\\?token=[A-Za-z0-9_-]+$`));
  return url;
}

/** Open an invite link in a fresh profile and create the account; returns the signed-in page. */
async function acceptInvite(link: string, person: { email: string; name: string; password: string }, role: string): Promise<Page> {
  const page = await newPerson(person.name);
  await page.goto(link);
  await page.getByTestId('invite-offer').waitFor();
  expect(await page.getByTestId('invite-role').textContent()).toBe(role);
  await page.getByTestId('email-input').fill(person.email);
  await page.getByTestId('name-input').fill(person.name);
  await page.getByTestId('password-input').fill(person.password);
  await page.getByTestId('invite-submit').click();
  await page.locator(`[data-testid="signed-in-user"][data-role="${role}"]`).waitFor({ timeout: 15_000 }).catch(async () => {
    throw new Error(`Accepting the ${role} invite did not sign in: ${await page.getByTestId('invite-error').textContent().catch(() => '(no error shown)')}${diagnostics()}`);
  });
  expect(await page.getByTestId('nav-account').textContent()).toBe(person.name);
  return page;
}

const attribute = (locator: Locator, name: string) => () => locator.getAttribute(name);

beforeAll(async () => {
  if (!existsSync(path.join(webDir, 'dist/index.html'))) throw new Error('apps/web/dist is missing: build the web app first (cd apps/web && npx vite build).');
  tmpDir = await mkdtemp(path.join(os.tmpdir(), 'chorus-e2e-team-'));
  // No CHORUS_ADMIN_*: the server starts unconfigured and logs a setup link.
  server = await startServer({ repoRoot, tmpDir, env: { CHORUS_ADMIN_EMAIL: '', CHORUS_ADMIN_PASSWORD: '', CHORUS_ENGINES: JSON.stringify(ENGINES) } });
  browser = await launchChromium();
  await mkdir(artifacts, { recursive: true });
});

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close().catch(() => undefined);
  await server?.stop().catch(() => undefined);
  if (tmpDir) await rm(tmpDir, { recursive: true, force: true });
});

describe('a team in the web UI', () => {
  it('creates the first admin through the one-time setup link, opening no WebSocket before sign-in', async () => {
    const base = server!.url;
    adminPage = await newPerson('admin');
    adminPage.on('websocket', (ws) => adminSockets.push(ws.url()));

    // Without the link, the app explains where to find it.
    await adminPage.goto(`${base}/#/history`);
    await adminPage.getByTestId('setup-needed').waitFor();

    await adminPage.goto(await setupLinkFromLog());
    await adminPage.getByTestId('setup-page').waitFor();
    expect(await adminPage.getByTestId('password-rule').textContent()).toBe(PASSWORD_RULE);
    await adminPage.getByTestId('email-input').fill(ADMIN.email);
    await adminPage.getByTestId('name-input').fill(ADMIN.name);
    await adminPage.getByTestId('password-input').fill('short');
    await adminPage.getByTestId('setup-submit').click();
    expect(await adminPage.getByTestId('setup-error').textContent()).toContain(PASSWORD_RULE);

    await adminPage.getByTestId('password-input').fill(ADMIN.password);
    await adminPage.getByTestId('setup-submit').click();
    await adminPage.locator('[data-testid="signed-in-user"][data-role="admin"]').waitFor({ timeout: 15_000 });
    expect(await adminPage.getByTestId('nav-account').textContent()).toBe(ADMIN.name);
    for (const nav of ['nav-new', 'nav-history', 'nav-members', 'nav-failures', 'nav-workers', 'nav-audit']) expect(await adminPage.getByTestId(nav).count(), nav).toBe(1);
    expect(adminSockets, 'a WebSocket was opened before sign-in').toEqual([]);

    // The first live page opens the socket, now with the session cookie.
    await adminPage.getByTestId('nav-history').click();
    await adminPage.getByTestId('history-empty').waitFor();
    await expect.poll(() => adminSockets.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await adminPage.getByTestId('connection-state').count()).toBe(0);

    // The Workers page: none registered yet; a worker token is created there and shown once.
    await adminPage.getByTestId('nav-workers').click();
    await adminPage.getByText('No standalone worker has registered yet').waitFor();
    await adminPage.getByTestId('worker-token-name').fill('gpu-box-1');
    await adminPage.getByTestId('create-worker-token').click();
    expect(await adminPage.getByTestId('new-worker-token').locator('code').textContent()).toMatch(/^chorus_wk_/);
    await adminPage.getByTestId('worker-token-row').waitFor();
  });

  it('invites a member, who opens the link in a fresh browser, chooses a name and password, and is signed in', async () => {
    const link = await inviteLink('member');
    memberPage = await acceptInvite(link, MEMBER, 'member');
    expect(await memberPage.getByTestId('nav-new').count()).toBe(1);
    for (const nav of ['nav-members', 'nav-failures', 'nav-workers', 'nav-audit']) expect(await memberPage.getByTestId(nav).count(), nav).toBe(0);

    // Used once: the same link now says so.
    const again = await newPerson('second visitor');
    await again.goto(link);
    expect(await again.getByTestId('invite-error').textContent()).toMatch(/already been used/);
  });

  it('the member runs a job on the GPU engine and it fails with GPU_OOM, while the admin watches the failed runs page', async () => {
    // The admin's review is open before the failure happens: it must appear there live.
    await adminPage.getByTestId('nav-failures').click();
    await adminPage.getByTestId('failures-empty').waitFor();

    await memberPage.getByTestId('nav-new').click();
    await memberPage.getByTestId('engine-select').selectOption('gpu-oom');
    await memberPage.getByTestId('mode-pretrained').check();
    await memberPage.getByTestId('speaker-select').selectOption('spk_en');
    await memberPage.getByTestId('text-input').fill('A sentence for the busy GPU.');
    await memberPage.getByTestId('generate').click();
    await memberPage.waitForURL(/#\/jobs\/job_[0-9a-z]+$/, { timeout: 15_000 }).catch(async () => {
      throw new Error(`Generate did not open a job page: ${await memberPage.getByTestId('form-error').textContent().catch(() => '')}${diagnostics()}`);
    });
    memberJobId = decodeURIComponent(new URL(memberPage.url()).hash.replace(/^#\/jobs\//, ''));
    await memberPage.locator('[data-testid="job-status"][data-status="failed"]').waitFor({ timeout: 60_000 }).catch(async () => {
      throw new Error(`The job did not fail: ${await memberPage.getByTestId('job-status').getAttribute('data-status')}${diagnostics()}`);
    });
    expect(await memberPage.getByTestId('job-error-code').textContent()).toBe('GPU_OOM');
    expect(await memberPage.getByTestId('input-created-by').textContent()).toBe(MEMBER.name);
    // Their own finished job: re-run and delete are offered, cancel is not (it is over).
    expect(await memberPage.getByTestId('rerun-same').count()).toBe(1);
    expect(await memberPage.getByTestId('delete').count()).toBe(1);
    expect(await memberPage.getByTestId('cancel').count()).toBe(0);
  });

  it('the admin sees the group appear without a reload, retries it, and resolves it with a note', async () => {
    const group = adminPage.locator('[data-testid="failure-group"][data-code="GPU_OOM"]');
    await group.waitFor({ timeout: 15_000 }).catch(() => {
      throw new Error(`The failure did not appear live on the Failed runs page.${diagnostics()}`);
    });
    expect(await group.getByTestId('group-count').getAttribute('data-count')).toBe('1');
    expect(await group.getByTestId('group-members').textContent()).toBe(`${MEMBER.name} (1)`);
    expect(await group.textContent()).toContain('The GPU ran out of memory.');
    expect(await group.getByTestId('group-state').textContent()).toBe('Open');
    expect(await group.getByTestId('per-day-chart').getAttribute('data-total')).toBe('1');
    expect(await group.locator('.chart-bar').count()).toBe(1);

    await group.getByTestId('toggle-runs').click();
    const run = group.locator(`[data-testid="failure-run"][data-job-id="${memberJobId}"]`);
    await run.waitFor();
    expect(await run.textContent()).toContain(MEMBER.name);

    // Retry the whole group on the same engine: the retry fails the same way and joins the group.
    await group.getByTestId('retry-group-same').click();
    await group.locator('[data-testid="retry-outcome"][data-count="1"]').waitFor();
    const retries = group.getByTestId('group-retries');
    await expect.poll(attribute(retries, 'data-total'), { timeout: 15_000 }).toBe('1');
    await expect.poll(attribute(retries, 'data-failed'), { timeout: 60_000 }).toBe('1');
    await expect.poll(attribute(group.getByTestId('group-count'), 'data-count'), { timeout: 15_000 }).toBe('2');
    expect(await group.getByTestId('group-members').textContent()).toContain(ADMIN.name);
    await run.locator('[data-testid="run-retry"][data-status="failed"]').waitFor({ timeout: 15_000 });
    await adminPage.evaluate(() => window.scrollTo(0, 0));
    await adminPage.screenshot({ path: path.join(artifacts, 'failed-runs.png'), fullPage: true });

    await group.getByTestId('resolve-group').click();
    await group.getByTestId('resolve-note').fill(RESOLUTION_NOTE);
    await group.getByTestId('resolve-confirm').click();
    await adminPage.getByTestId('failures-empty').waitFor({ timeout: 15_000 });
    expect(await group.count()).toBe(0);

    await adminPage.getByTestId('failure-state-resolved').click();
    await group.waitFor();
    expect(await group.getByTestId('group-state').textContent()).toBe('Resolved');
    expect(await group.getByTestId('group-note').textContent()).toBe(RESOLUTION_NOTE);
    expect(await group.getByTestId('group-reopened').count()).toBe(0);
    await adminPage.screenshot({ path: path.join(artifacts, 'failed-runs-resolved.png'), fullPage: true });
  });

  it('a viewer sees no way to create jobs, nor to re-run, cancel or delete them', async () => {
    const viewerPage = await acceptInvite(await inviteLink('viewer'), VIEWER, 'viewer');
    // A viewer's start page is the history.
    await viewerPage.waitForURL(/#\/history$/);
    await viewerPage.getByTestId('history-list').waitFor();
    expect(await viewerPage.getByTestId('nav-history').count()).toBe(1);
    expect(await viewerPage.getByTestId('nav-new').count()).toBe(0);
    expect(await viewerPage.getByRole('link', { name: /new job/i }).count()).toBe(0);
    expect(await viewerPage.getByRole('button', { name: /generate|new job/i }).count()).toBe(0);
    expect(await viewerPage.getByTestId('history-person-name').allTextContents()).toEqual(expect.arrayContaining([MEMBER.name, ADMIN.name]));

    // Only the member's jobs, through the person filter.
    await viewerPage.getByTestId('history-person').selectOption({ label: MEMBER.name });
    await expect.poll(() => viewerPage.getByTestId('history-person-name').allTextContents(), { timeout: 10_000 }).toEqual([MEMBER.name]);

    // The form's address sends a viewer to the history instead.
    await viewerPage.goto(`${server!.url}/#/new`);
    await viewerPage.waitForURL(/#\/history$/);
    expect(await viewerPage.getByTestId('generate').count()).toBe(0);

    await viewerPage.goto(`${server!.url}/#/jobs/${memberJobId}`);
    await viewerPage.locator('[data-testid="job-status"][data-status="failed"]').waitFor();
    for (const action of ['rerun-same', 'rerun-new', 'cancel', 'delete']) expect(await viewerPage.getByTestId(action).count(), action).toBe(0);
    await viewerPage.screenshot({ path: path.join(artifacts, 'viewer-job-page.png'), fullPage: true });

    // Admin pages are refused in the UI as they are by the server.
    await viewerPage.goto(`${server!.url}/#/failures`);
    await viewerPage.getByTestId('not-allowed').waitFor();
  });

  it('keeps the last admin, and a deactivated member’s open page goes to the sign-in page', async () => {
    await adminPage.getByTestId('nav-members').click();
    const adminRow = adminPage.locator(`[data-testid="member-row"][data-email="${ADMIN.email}"]`);
    await adminRow.getByTestId('member-role').selectOption('member');
    expect(await adminPage.getByTestId('members-error').textContent()).toMatch(/last active admin/);
    expect(await adminRow.getByTestId('member-role').inputValue()).toBe('admin');
    await adminPage.screenshot({ path: path.join(artifacts, 'members-page.png'), fullPage: true });

    // The member sits on a live page (its socket open); deactivation closes it (4401).
    await memberPage.getByTestId('nav-history').click();
    await memberPage.getByTestId('history-list').waitFor();
    await adminPage.locator(`[data-testid="member-row"][data-email="${MEMBER.email}"]`).getByTestId('deactivate').click();
    await adminPage.locator(`[data-testid="member-row"][data-email="${MEMBER.email}"][data-active="false"]`).waitFor();
    await memberPage.getByTestId('login-page').waitFor({ timeout: 15_000 }).catch(() => {
      throw new Error(`The deactivated member's page did not go to the sign-in page.${diagnostics()}`);
    });
    expect(decodeURIComponent(new URL(memberPage.url()).hash)).toBe('#/login?next=/history');
  });

  it('a wrong password is refused, and a signed-out visit to a deep link returns there after sign-in', async () => {
    const page = await newPerson('admin, second browser');
    await page.goto(`${server!.url}/#/failures`);
    await page.getByTestId('login-page').waitFor();
    await page.getByTestId('email-input').fill(ADMIN.email);
    await page.getByTestId('password-input').fill('not-the-password');
    await page.getByTestId('login-submit').click();
    expect(await page.getByTestId('login-error').textContent()).toBe('Wrong email or password.');

    await signIn(page, server!.url, ADMIN, '/failures');
    await page.waitForURL(/#\/failures$/);
    await page.getByTestId('failure-state-resolved').waitFor();
    expect(problems.filter((p) => p.includes('pageerror')), diagnostics()).toEqual([]);
  });
});
