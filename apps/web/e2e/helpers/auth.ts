import type { Page } from 'playwright-core';

/** The admin the e2e servers create at start (CHORUS_ADMIN_EMAIL / CHORUS_ADMIN_PASSWORD). */
export const TEST_ADMIN = { email: 'admin@chorus.test', password: 'test-admin-password', name: 'Test Admin' } as const;

/** Server environment that creates TEST_ADMIN at start, so tests can sign in at once. */
export const testAdminEnv = (): Record<string, string> => ({
  CHORUS_ADMIN_EMAIL: TEST_ADMIN.email,
  CHORUS_ADMIN_PASSWORD: TEST_ADMIN.password,
  CHORUS_ADMIN_NAME: TEST_ADMIN.name,
});

/**
 * Sign in through the login page, the way a person does: open `hashPath` (the page then
 * asks for sign-in and returns there), fill the form, wait until the header shows who is in.
 */
export async function signIn(page: Page, baseUrl: string, credentials: { email: string; password: string }, hashPath = '/'): Promise<void> {
  await page.goto(`${baseUrl}/#${hashPath}`);
  await page.getByTestId('login-page').waitFor({ timeout: 15_000 });
  await page.getByTestId('email-input').fill(credentials.email);
  await page.getByTestId('password-input').fill(credentials.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('signed-in-user').waitFor({ timeout: 15_000 }).catch(async () => {
    const error = await page.getByTestId('login-error').textContent().catch(() => null);
    throw new Error(`Sign-in as ${credentials.email} did not finish${error ? `: ${error}` : ''}`);
  });
}
