import { useEffect, useState } from 'react';

/** A dashboard location: `#/approvals`, `#/actions/<id>`, `#/actions?agent=x`. */
export interface Route {
  view: 'actions' | 'action' | 'approvals' | 'kill-switch' | 'policies' | 'agents' | 'not-found';
  /** The id of the action for `action`. */
  id: string | null;
  /** The query string after `?`, without it. */
  query: string;
}

/** Parses the hash part of the URL. Hash routing keeps the server side to one `index.html`. */
export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#/, '') || '/actions';
  const q = raw.indexOf('?');
  const path = (q === -1 ? raw : raw.slice(0, q)).replace(/\/+$/, '') || '/actions';
  const query = q === -1 ? '' : raw.slice(q + 1);
  const parts = path.split('/').filter(Boolean);
  const [first, second] = parts;
  if (parts.length === 1 && (first === 'actions' || first === 'approvals' || first === 'kill-switch' || first === 'policies' || first === 'agents')) {
    return { view: first, id: null, query };
  }
  if (parts.length === 2 && first === 'actions' && second) return { view: 'action', id: decodeURIComponent(second), query };
  return { view: 'not-found', id: null, query };
}

export function navigate(to: string): void {
  window.location.hash = to.startsWith('#') ? to : `#${to}`;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(window.location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(window.location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
