import type { ReactNode } from 'react';
import type { AuthUser } from '@chorus/api/schemas';
import { CurrentUserContext } from './auth/CurrentUser.ts';
import { homeHref } from './auth/permissions.ts';
import { useAuthStatus, useSignOutCleanup } from './auth/session.ts';
import { useSessionWatch } from './auth/useSessionWatch.ts';
import { ConnectionBanner } from './components/ConnectionBanner.tsx';
import { InlineError } from './components/InlineError.tsx';
import { NavBar } from './components/NavBar.tsx';
import { Redirect } from './components/Redirect.tsx';
import { InvitePage } from './pages/auth/InvitePage.tsx';
import { LoginPage } from './pages/auth/LoginPage.tsx';
import { SetupNeededPage } from './pages/auth/SetupNeededPage.tsx';
import { SetupPage } from './pages/auth/SetupPage.tsx';
import { SignedInRoutes } from './pages/SignedInRoutes.tsx';
import { currentHashPath, hrefs, safeReturnPath, useRoute, type Route } from './router/hashRouter.ts';

/**
 * The auth gate: auth.status decides between setup, sign-in (remembering where the person
 * was going) and the signed-in pages.
 */
export function App() {
  const route = useRoute();
  const status = useAuthStatus();
  const user = status.data?.user ?? null;
  useSessionWatch();
  useSignOutCleanup(user?.id ?? null);

  let body: ReactNode;
  if (status.data) body = pageFor(route, status.data.ready, user);
  else if (status.isError) body = <InlineError message={`Could not reach the Chorus server: ${status.error.message}`} testId="status-error" />;
  else body = <p className="muted">Loading…</p>;

  return (
    <>
      <NavBar route={route} user={user} />
      {user ? <ConnectionBanner /> : null}
      <main className="container">{body}</main>
    </>
  );
}

function pageFor(route: Route, ready: boolean, user: AuthUser | null): ReactNode {
  if (!ready) return route.page === 'setup' ? <SetupPage token={route.token} ready={false} /> : <SetupNeededPage />;
  if (route.page === 'setup') return user ? <Redirect to={homeHref(user)} /> : <SetupPage token={route.token} ready />;
  if (route.page === 'invite') return <InvitePage token={route.token} signedInAs={user} />;
  if (!user) {
    if (route.page === 'login') return <LoginPage next={route.next} />;
    return <Redirect to={hrefs.login(safeReturnPath(currentHashPath()))} />;
  }
  if (route.page === 'login') {
    const back = safeReturnPath(route.next);
    return <Redirect to={back ? `#${back}` : homeHref(user)} />;
  }
  return (
    <CurrentUserContext.Provider value={user}>
      <SignedInRoutes route={route} user={user} />
    </CurrentUserContext.Provider>
  );
}
