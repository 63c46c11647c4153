import { useCallback, useId, useState } from 'react';
import { useApi } from '../api/context.tsx';
import { describeError, isAlreadySettled, isApiError } from '../api/errors.ts';
import { useNow, useQuery, useSubscription, useThrottled } from '../api/hooks.ts';
import { APPROVAL, APPROVAL_EVENTS, APPROVE, DENY, PENDING_APPROVALS, RECENT_APPROVALS, type Approval, type ApprovalData, type ApprovalEventData, type PendingApprovalsData, type RecentApprovalsData, type VoteResult } from '../api/operations.ts';
import { ApprovalStatusBadge } from '../components/badges.tsx';
import { Empty, ErrorBox, LiveIndicator, Loading } from '../components/states.tsx';
import { pretty, timeLeft, when } from '../lib/format.ts';
import type { Role } from '../session.ts';

const RECENT_FILTER = { filter: { status: ['GRANTED', 'DENIED', 'EXPIRED', 'CONSUMED'] } };
const SETTLING = new Set(['GRANTED', 'DENIED', 'EXPIRED', 'CANCELLED', 'CONSUMED']);

/** Whether this person may vote on this approval, and if not, why (shown instead of the buttons). */
export function voteRight(role: Role, approval: Pick<Approval, 'approverRoles' | 'status' | 'votes'>, name: string, expired: boolean): { canVote: true } | { canVote: false; why: string } {
  if (role === 'viewer') return { canVote: false, why: 'You are signed in with a viewer token: you can see approvals but not approve or deny them.' };
  if (approval.status !== 'PENDING') return { canVote: false, why: 'This approval is already decided.' };
  if (expired) return { canVote: false, why: 'This approval has expired: the request can no longer be approved.' };
  const roles = approval.approverRoles.map((r) => r.toLowerCase());
  if (!roles.includes(role)) return { canVote: false, why: `This rule accepts votes from ${roles.join(' or ')} tokens; yours is ${role}.` };
  const me = name.trim().toLowerCase();
  if (approval.votes.some((v) => v.voter.trim().toLowerCase() === me && v.outcome.toUpperCase() === 'RECORDED')) {
    return { canVote: false, why: 'You have voted on this approval; it waits for other approvers.' };
  }
  return { canVote: true };
}

/** The approvals inbox: what is waiting, exactly what approving it lets through, and the buttons to decide. */
export function ApprovalsView() {
  const pending = useQuery<PendingApprovalsData>(PENDING_APPROVALS, {});
  const recent = useQuery<RecentApprovalsData>(RECENT_APPROVALS, RECENT_FILTER);
  const [notice, setNotice] = useState<string | null>(null);
  // Approvals the live feed says are settled leave the inbox at once, before the read models
  // (which lag the events slightly) say so too.
  const [settled, setSettled] = useState<ReadonlySet<string>>(new Set());
  const reloadAll = useCallback(() => {
    pending.reload();
    recent.reload();
  }, [pending.reload, recent.reload]);
  const refresh = useThrottled(reloadAll, 300);
  const settle = useThrottled(reloadAll, 1500);
  const onEvent = useCallback(
    (d: ApprovalEventData) => {
      const e = d.approvalEvents;
      if (SETTLING.has(e.type)) setSettled((s) => new Set(s).add(e.approvalId));
      refresh();
      settle();
    },
    [refresh, settle],
  );
  const sub = useSubscription(APPROVAL_EVENTS, {}, onEvent, { enabled: true, onReconnect: reloadAll });
  const now = useNow(1000);
  const items = (pending.state.data?.pendingApprovals.nodes ?? []).filter((a) => !settled.has(a.id));

  return (
    <section aria-labelledby="approvals-title">
      <div className="view-head">
        <h1 id="approvals-title">
          Approvals{pending.state.data ? <span className="count-badge">{items.length} pending</span> : null}
        </h1>
        <div className="view-tools">
          <LiveIndicator status={sub.status} error={sub.error} />
        </div>
      </div>
      <div aria-live="polite" className="announcer">
        {notice ? (
          <p className="notice" role="status">
            {notice}{' '}
            <button type="button" className="btn btn-small" onClick={() => setNotice(null)}>
              Dismiss
            </button>
          </p>
        ) : null}
      </div>
      {pending.state.status === 'loading' ? <Loading what="pending approvals" /> : null}
      {pending.state.status === 'error' ? <ErrorBox what="pending approvals" error={pending.state.error} onRetry={pending.reload} /> : null}
      {pending.state.data ? (
        items.length === 0 ? (
          <Empty title="Nothing is waiting for approval.">Requests that a policy rule sends for approval appear here as they arrive.</Empty>
        ) : (
          <ul className="approval-list">
            {items.map((a) => (
              <li key={a.id}>
                <ApprovalCard
                  approval={a}
                  now={now}
                  onDecided={(msg, settledId) => {
                    setNotice(msg);
                    if (settledId) setSettled((s) => new Set(s).add(settledId));
                    reloadAll();
                    settle();
                  }}
                />
              </li>
            ))}
          </ul>
        )
      ) : null}
      <h2>Recently decided</h2>
      {recent.state.status === 'loading' ? <Loading what="recent approvals" /> : null}
      {recent.state.status === 'error' ? <ErrorBox what="recent approvals" error={recent.state.error} onRetry={recent.reload} /> : null}
      {recent.state.data ? (
        recent.state.data.approvals.nodes.length === 0 ? (
          <Empty title="No approval has been decided yet." />
        ) : (
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Recently decided approvals</caption>
              <thead>
                <tr>
                  <th scope="col">Requested</th>
                  <th scope="col">Agent</th>
                  <th scope="col">Request</th>
                  <th scope="col">Status</th>
                  <th scope="col">Decided by</th>
                </tr>
              </thead>
              <tbody>
                {recent.state.data.approvals.nodes.map((a) => (
                  <tr key={a.id}>
                    <td data-label="Requested">
                      <a href={`#/actions/${a.actionId}`}>{when(a.requestedAt)}</a>
                    </td>
                    <td data-label="Agent">{a.agentId}</td>
                    <td data-label="Request">
                      <code>{a.request.actionType}</code> <span className="muted">{a.request.method}</span>
                    </td>
                    <td data-label="Status">
                      <ApprovalStatusBadge status={a.status} />
                    </td>
                    <td data-label="Decided by">{a.deniedBy ?? (a.approvers.join(', ') || '–')}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : null}
    </section>
  );
}

/** Who settled an approval, in a sentence. */
export function settledBy(a: Pick<Approval, 'status' | 'approvers' | 'deniedBy' | 'denyReason' | 'decidedAt'>): string {
  const at = a.decidedAt ? ` at ${when(a.decidedAt)}` : '';
  switch (a.status) {
    case 'GRANTED':
    case 'CONSUMED':
      return `approved by ${a.approvers.join(', ') || 'someone else'}${at}`;
    case 'DENIED':
      return `denied by ${a.deniedBy ?? 'someone else'}${a.denyReason ? ` (${a.denyReason})` : ''}${at}`;
    case 'EXPIRED':
      return 'expired before enough approvals arrived';
    case 'CANCELLED':
      return 'cancelled';
    default:
      return 'still pending';
  }
}

export function ApprovalCard({ approval: a, now, onDecided }: { approval: Approval; now: number; onDecided(message: string, settledId: string | null): void }) {
  const { client, session } = useApi();
  const [busy, setBusy] = useState<'approve' | 'deny' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [comment, setComment] = useState('');
  const id = useId();
  const left = timeLeft(a.expiresAt, now);
  const right = voteRight(session.role, a, session.name, left.expired);
  const recorded = a.votes.filter((v) => v.outcome.toUpperCase() === 'RECORDED');
  const approvals = recorded.filter((v) => v.vote?.toLowerCase() === 'approve').length;

  async function vote(kind: 'approve' | 'deny') {
    setBusy(kind);
    setError(null);
    try {
      const data = await client.request<{ approve?: VoteResult; deny?: VoteResult }>(kind === 'approve' ? APPROVE : DENY, { id: a.id, comment: comment.trim() || null });
      const r = (kind === 'approve' ? data.approve : data.deny)!;
      onDecided(
        r.status === 'PENDING'
          ? `Your approval of ${a.request.actionType} is recorded: ${r.approvals.length} of ${r.quorum} needed.`
          : r.status === 'GRANTED' || r.status === 'CONSUMED'
            ? `Approved ${a.request.actionType} for ${a.agentId}: the request is released.`
            : `Denied ${a.request.actionType} for ${a.agentId}: the agent gets a 403.`,
        r.status === 'PENDING' ? null : a.id,
      );
    } catch (e) {
      if (isApiError(e) && isAlreadySettled(e)) {
        // Say who got there first, from the approval as it is now (the read model may lag the
        // refusal by a moment, so look a few times).
        let who = `someone else decided it first (${e.message})`;
        for (let attempt = 0; attempt < 5; attempt++) {
          try {
            const now = await client.request<ApprovalData>(APPROVAL, { id: a.id });
            if (now.approval && now.approval.status !== 'PENDING') {
              who = `it was ${settledBy(now.approval)}`;
              break;
            }
          } catch {
            break;
          }
          await new Promise((r) => setTimeout(r, 300));
        }
        onDecided(`Your vote was not counted: ${who}. Nothing was changed by your click.`, a.id);
      } else {
        setError(isApiError(e) ? `Your vote was not recorded. ${describeError(e)}` : 'Your vote was not recorded.');
        setBusy(null);
      }
    }
  }

  return (
    <article className="card approval-card" aria-labelledby={`${id}-title`}>
      <header className="approval-head">
        <h3 id={`${id}-title`}>
          <code>{a.request.actionType}</code> by {a.agentId}
        </h3>
        <p className={left.urgent ? 'time-left urgent' : 'time-left'}>
          <time dateTime={a.expiresAt}>{left.text}</time>
        </p>
      </header>
      <p className="muted">
        Gateway {a.gatewayId} · requested {when(a.requestedAt)} · rule <code>{a.ruleId ?? '–'}</code>: {a.reason}
      </p>
      <h4 className="visually-hidden">The exact request</h4>
      <dl className="fields request-fields">
        <div className="field-row">
          <dt>Request</dt>
          <dd>
            <code className="break">
              <strong>{a.request.method}</strong> {a.request.url}
            </code>
          </dd>
        </div>
        <div className="field-row">
          <dt>Action</dt>
          <dd>
            <code>{a.request.actionType}</code>
            {a.request.resource ? (
              <>
                {' '}
                on <code>{a.request.resource}</code>
              </>
            ) : null}
          </dd>
        </div>
        <div className="field-row">
          <dt>Parameters</dt>
          <dd>{a.request.params !== null && a.request.params !== undefined ? <pre className="json">{pretty(a.request.params)}</pre> : 'none'}</dd>
        </div>
        <div className="field-row">
          <dt>Body digest</dt>
          <dd>
            <code className="break">{a.request.bodyDigest ?? 'no body'}</code>
          </dd>
        </div>
        <div className="field-row">
          <dt>Votes</dt>
          <dd>
            {approvals} of {a.quorum} approvals
            {recorded.length > 0 ? (
              <ul className="plain">
                {a.votes.map((v) => (
                  <li key={`${v.voter}-${v.votedAt}`}>
                    {v.voter} ({v.voterRole?.toLowerCase() ?? 'no role'}) {v.outcome.toUpperCase() === 'REFUSED' ? `was refused (${v.refusalReason ?? 'not allowed'})` : `voted ${v.vote}`} at {when(v.votedAt)}
                  </li>
                ))}
              </ul>
            ) : (
              <span className="muted"> · no one else has voted yet</span>
            )}
          </dd>
        </div>
      </dl>
      <p className="help">Approving releases this request only: the same method, URL, parameters and body digest, from this run.</p>
      {right.canVote ? (
        <div className="vote">
          <label htmlFor={`${id}-comment`}>Comment (optional)</label>
          <input id={`${id}-comment`} value={comment} onChange={(e) => setComment(e.target.value)} maxLength={1000} autoComplete="off" />
          <div className="vote-buttons">
            <button type="button" className="btn btn-primary" disabled={busy !== null} aria-busy={busy === 'approve'} onClick={() => vote('approve')} aria-describedby={`${id}-title`}>
              {busy === 'approve' ? 'Approving…' : 'Approve'}
            </button>
            <button type="button" className="btn btn-danger" disabled={busy !== null} aria-busy={busy === 'deny'} onClick={() => vote('deny')} aria-describedby={`${id}-title`}>
              {busy === 'deny' ? 'Denying…' : 'Deny'}
            </button>
          </div>
        </div>
      ) : (
        <p className="no-vote">{right.why}</p>
      )}
      {error ? (
        <p className="field-error" role="alert">
          {error}
        </p>
      ) : null}
    </article>
  );
}
