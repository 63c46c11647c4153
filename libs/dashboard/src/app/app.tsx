import { useCallback, useEffect, useMemo, useState } from 'react';
import { createApiClient } from './api/client.ts';
import { ApiContext } from './api/context.tsx';
import type { ApiError } from './api/errors.ts';
import { formFromQuery } from './lib/filters.ts';
import { useRoute, type Route } from './router.ts';
import { createSessionStore, isExpired, type Session } from './session.ts';
import { ActionDetailView } from './views/action-detail.tsx';
import { ActionsView } from './views/actions.tsx';
import { AgentsView } from './views/agents.tsx';
import { ApprovalsView } from './views/approvals.tsx';
import { KillSwitchView } from './views/kill-switch.tsx';
import { PoliciesView } from './views/policies.tsx';
import { SignIn } from './views/sign-in.tsx';

export const SESSION_ENDED = 'Your session has ended: the API no longer accepts this token (it was revoked or has expired). Sign in again.';
export const SESSION_TIMED_OUT = 'Your session expired after 12 hours. Sign in again.';

const NAV: { view: Route['view']; href: string; label: string }[] = [
  { view: 'actions', href: '#/actions', label: 'Live actions' },
  { view: 'approvals', href: '#/approvals', label: 'Approvals' },
  { view: 'kill-switch', href: '#/kill-switch', label: 'Kill switch' },
  { view: 'policies', href: '#/policies', label: 'Policies' },
  { view: 'agents', href: '#/agents', label: 'Agents and runs' },
];

const TITLES: Record<Route['view'], string> = {
  actions: 'Live actions',
  action: 'Action',
  approvals: 'Approvals',
  'kill-switch': 'Kill switch',
  policies: 'Policies',
  agents: 'Agents and runs',
  'not-found': 'Not found',
};

export function App({ endpoint }: { endpoint: string }) {
  const store = useMemo(() => createSessionStore(window.sessionStorage), []);
  const [{ session, notice }, setAuth] = useState<{ session: Session | null; notice: string | null }>(() => {
    const loaded = store.load(Date.now());
    return { session: loaded.session, notice: loaded.expired ? SESSION_TIMED_OUT : null };
  });
  const route = useRoute();

  const end = useCallback(
    (message: string | null) => {
      store.clear();
      setAuth({ session: null, notice: message });
    },
    [store],
  );
  const onUnauthenticated = useCallback((_e: ApiError) => end(SESSION_ENDED), [end]);
  const client = useMemo(() => (session ? createApiClient({ endpoint, token: session.token, onUnauthenticated }) : null), [endpoint, session, onUnauthenticated]);

  // The 12-hour limit also ends a session left open in a tab.
  useEffect(() => {
    if (!session) return;
    const t = setInterval(() => {
      if (isExpired(session, Date.now())) end(SESSION_TIMED_OUT);
    }, 30_000);
    return () => clearInterval(t);
  }, [session, end]);

  useEffect(() => {
    document.title = session ? `${TITLES[route.view]} · TameFlare` : 'Sign in · TameFlare';
  }, [route.view, session]);

  if (!session || !client) {
    return (
      <SignIn
        endpoint={endpoint}
        notice={notice}
        onSignedIn={(s) => {
          store.save(s);
          setAuth({ session: s, notice: null });
        }}
      />
    );
  }

  return (
    <ApiContext.Provider value={{ client, session }}>
      <a className="skip-link" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header className="top">
        <div className="brand">
          <span className="logo" aria-hidden="true">
            ◆
          </span>{' '}
          TameFlare
        </div>
        <nav aria-label="Dashboard">
          <ul>
            {NAV.map((n) => (
              <li key={n.view}>
                <a href={n.href} aria-current={route.view === n.view || (n.view === 'actions' && route.view === 'action') ? 'page' : undefined}>
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span>
            {session.name} <span className="role">{session.role}</span>
          </span>
          <button type="button" className="btn btn-small" onClick={() => end('You signed out.')}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <View route={route} />
      </main>
    </ApiContext.Provider>
  );
}

function View({ route }: { route: Route }) {
  const form = useMemo(() => formFromQuery(route.query), [route.query]);
  switch (route.view) {
    case 'actions':
      return <ActionsView form={form} query={route.query} />;
    case 'action':
      return <ActionDetailView id={route.id ?? ''} />;
    case 'approvals':
      return <ApprovalsView />;
    case 'kill-switch':
      return <KillSwitchView />;
    case 'policies':
      return <PoliciesView query={route.query} />;
    case 'agents':
      return <AgentsView />;
    default:
      return (
        <section>
          <h1>Page not found</h1>
          <p>
            There is no such page. <a href="#/actions">Go to live actions</a>.
          </p>
        </section>
      );
  }
}
