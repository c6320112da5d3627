import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startHarness, TEST_ADMIN, type Harness } from './support/harness.ts';

/** Open a raw WebSocket with given headers; resolve 'open' or the HTTP status it was refused with. */
function tryUpgrade(url: string, headers: Record<string, string> = {}): Promise<'open' | number> {
  return new Promise((resolve, reject) => {
    const { origin, ...rest } = headers;
    const ws = new WebSocket(url, { ...(origin ? { origin } : {}), headers: rest });
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', (err) => {
      if (!/Unexpected server response/.test(err.message)) reject(err);
    });
  });
}

describe('WebSocket upgrades: exact origin, host names and sign-in', () => {
  let h: Harness;
  let cookie: string;
  let wsUrl: string;
  beforeAll(async () => {
    h = await startHarness({ CHORUS_ALLOWED_ORIGINS: 'https://studio.example.com' });
    cookie = await signIn(h.url, TEST_ADMIN.email, TEST_ADMIN.password);
    wsUrl = h.url.replace('http', 'ws') + '/trpc';
  });
  afterAll(async () => h?.stop());

  it('refuses a foreign Origin with 403, even with a valid session cookie', async () => {
    expect(await tryUpgrade(wsUrl, { origin: 'https://evil.example.net', cookie })).toBe(403);
  });
  it('refuses a DNS-rebinding page (Host and Origin both the attacker’s name) with 421', async () => {
    expect(await tryUpgrade(wsUrl, { origin: 'http://evil.example:8765', host: 'evil.example:8765', cookie })).toBe(421);
  });
  it('accepts the same origin, a configured origin, and non-browser clients without Origin, when signed in', async () => {
    expect(await tryUpgrade(wsUrl, { origin: h.url, cookie })).toBe('open');
    expect(await tryUpgrade(wsUrl, { origin: 'https://studio.example.com', cookie })).toBe('open');
    expect(await tryUpgrade(wsUrl, { cookie })).toBe('open');
  });
  it('refuses the same host on another port or scheme (another local app) with 403, even with a valid admin cookie', async () => {
    const port = Number(new URL(h.url).port);
    expect(await tryUpgrade(wsUrl, { origin: `http://localhost:${port === 3000 ? 3001 : 3000}`, cookie })).toBe(403);
    expect(await tryUpgrade(wsUrl, { origin: h.url.replace('http:', 'https:'), cookie })).toBe(403);
    expect(await tryUpgrade(wsUrl, { origin: `http://127.0.0.1:${port}`, cookie })).toBe(403);
  });
  it('accepts the page origin a dev proxy forwards with its own Host (Vite on :5173, no changeOrigin)', async () => {
    expect(await tryUpgrade(wsUrl, { origin: 'http://localhost:5173', host: 'localhost:5173', cookie })).toBe('open');
  });
  it('refuses an upgrade without a session (401), or with a made-up one', async () => {
    expect(await tryUpgrade(wsUrl, { origin: h.url })).toBe(401);
    expect(await tryUpgrade(wsUrl, { origin: h.url, cookie: 'chorus_session=' + 'A'.repeat(43) })).toBe(401);
  });
  it('answers upgrades on other paths with 404', async () => {
    expect(await tryUpgrade(h.url.replace('http', 'ws') + '/elsewhere', { origin: h.url, cookie })).toBe(404);
  });
});
