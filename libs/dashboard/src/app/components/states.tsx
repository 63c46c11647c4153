import type { ReactNode } from 'react';
import { describeError, type ApiError } from '../api/errors.ts';
import type { LiveStatus } from '../api/hooks.ts';

/** "Loading …" announced politely to screen readers. */
export function Loading({ what }: { what: string }) {
  return (
    <p className="state state-loading" role="status">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </p>
  );
}

/** An empty list: what it would show, and how to get something into it. */
export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <p className="state-title">{title}</p>
      {children ? <p>{children}</p> : null}
    </div>
  );
}

/** An error with what to do about it. `onRetry` adds a "Try again" button. */
export function ErrorBox({ error, onRetry, what }: { error: ApiError; onRetry?: () => void; what: string }) {
  return (
    <div className="state state-error" role="alert">
      <p className="state-title">Could not load {what}</p>
      <p>{describeError(error)}</p>
      {onRetry ? (
        <button type="button" className="btn" onClick={onRetry}>
          Try again
        </button>
      ) : null}
    </div>
  );
}

const LIVE_TEXT: Record<LiveStatus, string> = {
  connecting: 'Connecting…',
  live: 'Live',
  reconnecting: 'Reconnecting…',
  paused: 'Paused',
  failed: 'Live updates stopped',
};

/** The state of a live feed, in words (colour is only a second cue). */
export function LiveIndicator({ status, error }: { status: LiveStatus; error: ApiError | null }) {
  return (
    <span className={`live live-${status}`} role="status" title={error && status !== 'live' ? describeError(error) : undefined}>
      <span className="live-dot" aria-hidden="true" />
      {LIVE_TEXT[status]}
      {status === 'failed' && error ? <span className="visually-hidden">: {describeError(error)}</span> : null}
    </span>
  );
}
