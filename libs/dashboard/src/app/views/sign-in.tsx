import { useId, useState, type FormEvent } from 'react';
import { createApiClient } from '../api/client.ts';
import { describeError, isApiError, type ApiError } from '../api/errors.ts';
import { VIEWER, type ViewerData } from '../api/operations.ts';
import type { Session } from '../session.ts';

/** Turns what was pasted into a token: trims it and drops a copied `Bearer ` prefix. */
export function cleanToken(raw: string): string {
  return raw.trim().replace(/^Bearer\s+/i, '').trim();
}

/** What the sign-in form says for a failed attempt (a wrong token is not an "expired session"). */
export function signInMessage(e: ApiError): string {
  if (e.kind === 'unauthenticated') return 'This token was not accepted: it is unknown, revoked or mistyped. Check that you copied the whole token.';
  return describeError(e);
}

/**
 * Sign-in with an API token. The token is checked by asking the API who it belongs to; nothing
 * is stored until the API has accepted it.
 */
export function SignIn(props: { endpoint: string; notice: string | null; onSignedIn(s: Session): void }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const inputId = useId();
  const helpId = useId();
  const errorId = useId();

  async function submit(e: FormEvent) {
    e.preventDefault();
    const t = cleanToken(token);
    if (!t) {
      setError('Enter an API token.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const client = createApiClient({ endpoint: props.endpoint, token: t });
      const { viewer } = await client.request<ViewerData>(VIEWER);
      props.onSignedIn({ token: t, name: viewer.name, role: viewer.role.toLowerCase() as Session['role'], tokenId: null, signedInAt: Date.now() });
    } catch (err) {
      setError(isApiError(err) ? signInMessage(err) : 'Sign-in failed unexpectedly. Try again.');
      setBusy(false);
    }
  }

  return (
    <main className="sign-in" id="main">
      <h1>
        <span className="logo" aria-hidden="true">
          ◆
        </span>{' '}
        TameFlare
      </h1>
      <p className="lede">Watch, approve and stop what your AI agents do.</p>
      {props.notice ? (
        <p className="notice" role="alert">
          {props.notice}
        </p>
      ) : null}
      <form onSubmit={submit} noValidate aria-busy={busy}>
        <label htmlFor={inputId}>API token</label>
        <input
          id={inputId}
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          value={token}
          onChange={(e) => setToken(e.target.value)}
          aria-describedby={error ? `${errorId} ${helpId}` : helpId}
          aria-invalid={error ? true : undefined}
          required
          autoFocus
        />
        <p id={helpId} className="help">
          An admin issues one with <code>tf token create NAME --role viewer|approver|admin</code>. It is kept in this browser tab only, until you sign out or close the tab.
        </p>
        {error ? (
          <p id={errorId} className="field-error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
