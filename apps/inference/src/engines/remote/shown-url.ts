import { EngineError } from '../../engine/engine.ts';

/**
 * A configured engine URL as messages print it: scheme://host:port/path, without userinfo,
 * query or fragment, which may hold credentials (`http://user:pw@gpu1:50000/?api_key=…`).
 */
export function shownUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`.replace(/\/+$/, '');
}

/**
 * Node's fetch refuses a URL with userinfo, and its error repeats the whole URL (password
 * included); refuse it first with a message that does not.
 */
export function refuseUrlCredentials(url: string, target: string, stage?: string): void {
  const parsed = new URL(url);
  if (parsed.username === '' && parsed.password === '') return;
  throw new EngineError(
    'ENGINE_UNAVAILABLE',
    `The URL of ${target} carries a user name or password (user:password@), which Node’s fetch refuses.`,
    'An admin should remove the credentials from the engine’s url (put an authenticating proxy in front of the server instead).',
    stage,
  );
}
