import type { Route } from '../router/hashRouter.ts';
import { hrefs } from '../router/hashRouter.ts';

export function NavBar({ route }: { route: Route }) {
  return (
    <header className="navbar">
      <a className="brand" href={hrefs.newJob()}>
        <img src="/favicon.svg" alt="" width={24} height={24} />
        Chorus
      </a>
      <nav aria-label="Main">
        <a href={hrefs.newJob()} aria-current={route.page === 'new' ? 'page' : undefined} data-testid="nav-new">
          New job
        </a>
        <a href={hrefs.history()} aria-current={route.page === 'history' ? 'page' : undefined} data-testid="nav-history">
          History
        </a>
      </nav>
    </header>
  );
}
