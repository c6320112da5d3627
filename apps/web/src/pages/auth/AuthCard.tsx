import type { ReactNode } from 'react';

/** The narrow centred card the sign-in, setup and invite pages share. */
export function AuthCard({ title, children, testId }: { title: string; children: ReactNode; testId?: string }) {
  return (
    <div className="auth-page" data-testid={testId}>
      <section className="card auth-card">
        <h1>{title}</h1>
        {children}
      </section>
    </div>
  );
}
