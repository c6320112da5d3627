import { ConnectionBanner } from './components/ConnectionBanner.tsx';
import { NavBar } from './components/NavBar.tsx';
import { hrefs, useRoute } from './router/hashRouter.ts';
import { HistoryPage } from './pages/HistoryPage.tsx';
import { JobPage } from './pages/JobPage.tsx';
import { NewJobPage } from './pages/NewJobPage.tsx';

export function App() {
  const route = useRoute();
  return (
    <>
      <NavBar route={route} />
      <ConnectionBanner />
      <main className="container">
        {route.page === 'new' ? <NewJobPage /> : null}
        {/* keyed by id: a new job page starts with a fresh event stream and log */}
        {route.page === 'job' ? <JobPage key={route.id} id={route.id} /> : null}
        {route.page === 'history' ? <HistoryPage /> : null}
        {route.page === 'notFound' ? (
          <div className="page">
            <h1>Not found</h1>
            <p>
              Nothing lives at <code>{route.path}</code>. <a href={hrefs.newJob()}>Start a new job</a>.
            </p>
          </div>
        ) : null}
      </main>
    </>
  );
}
