import type { AuthUser } from '@chorus/api/schemas';
import { canCreateJobs, homeHref, isAdmin } from '../auth/permissions.ts';
import { NotAllowed } from '../components/NotAllowed.tsx';
import { Redirect } from '../components/Redirect.tsx';
import { hrefs, type Route } from '../router/hashRouter.ts';
import { AccountPage } from './AccountPage.tsx';
import { AuditPage } from './AuditPage.tsx';
import { FailuresPage } from './FailuresPage.tsx';
import { HistoryPage } from './HistoryPage.tsx';
import { JobPage } from './JobPage.tsx';
import { MembersPage } from './MembersPage.tsx';
import { NewJobPage } from './NewJobPage.tsx';
import { WorkersPage } from './WorkersPage.tsx';

/** The pages behind sign-in; each role sees only what it may use. */
export function SignedInRoutes({ route, user }: { route: Route; user: AuthUser }) {
  switch (route.page) {
    case 'new':
      // Viewers create nothing: their start page is the history.
      return canCreateJobs(user) ? <NewJobPage /> : <Redirect to={hrefs.history()} />;
    case 'job':
      // keyed by id: a new job page starts with a fresh event stream and log
      return <JobPage key={route.id} id={route.id} />;
    case 'history':
      return <HistoryPage />;
    case 'account':
      return <AccountPage />;
    case 'members':
      return isAdmin(user) ? <MembersPage /> : <NotAllowed needed="admin" />;
    case 'failures':
      return isAdmin(user) ? <FailuresPage /> : <NotAllowed needed="admin" />;
    case 'audit':
      return isAdmin(user) ? <AuditPage /> : <NotAllowed needed="admin" />;
    case 'workers':
      return isAdmin(user) ? <WorkersPage /> : <NotAllowed needed="admin" />;
    case 'login':
    case 'setup':
    case 'invite':
      // Handled by the gate before these pages; here only for completeness.
      return <Redirect to={homeHref(user)} />;
    case 'notFound':
      return (
        <div className="page">
          <h1>Not found</h1>
          <p>
            Nothing lives at <code>{route.path}</code>. <a href={homeHref(user)}>Back to the start</a>.
          </p>
        </div>
      );
  }
}
