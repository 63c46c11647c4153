import { useMemo, type ReactNode } from 'react';
import { useQuery } from '../api/hooks.ts';
import { ACTION_DETAIL, type ActionDetailData } from '../api/operations.ts';
import { ApprovalStatusBadge, DecisionBadge, outcomeText } from '../components/badges.tsx';
import { Empty, ErrorBox, Loading } from '../components/states.tsx';
import { millis, pretty, when } from '../lib/format.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** One action from request to completion: what was asked, how policy decided, which credential was used, what came back. */
export function ActionDetailView({ id }: { id: string }) {
  const valid = UUID.test(id);
  const variables = useMemo(() => (valid ? { id } : null), [id, valid]);
  const { state, reload } = useQuery<ActionDetailData>(ACTION_DETAIL, variables);
  return (
    <section aria-labelledby="action-title">
      <p>
        <a href="#/actions">← Back to live actions</a>
      </p>
      <h1 id="action-title">Action</h1>
      {!valid ? <Empty title="This is not an action id.">Action ids are UUIDs; open an action from the live list.</Empty> : null}
      {valid && state.status === 'loading' ? <Loading what="the action" /> : null}
      {state.status === 'error' ? <ErrorBox what="the action" error={state.error} onRetry={reload} /> : null}
      {state.status === 'ready' && state.data.action === null ? <Empty title={`No action with id ${id} is recorded.`}>It may not be projected yet; try again in a moment.</Empty> : null}
      {state.data?.action ? <ActionBody a={state.data.action} /> : null}
    </section>
  );
}

function Fields({ children }: { children: ReactNode }) {
  return <dl className="fields">{children}</dl>;
}

function F({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="field-row">
      <dt>{label}</dt>
      <dd>{children ?? '–'}</dd>
    </div>
  );
}

function Code({ v }: { v: string | number | null | undefined }) {
  return v === null || v === undefined || v === '' ? <>–</> : <code className="break">{String(v)}</code>;
}

function ActionBody({ a }: { a: NonNullable<ActionDetailData['action']> }) {
  const d = a.decided;
  const c = a.completion;
  return (
    <div className="detail">
      <p className="detail-summary">
        <code>{a.type ?? 'unclassified'}</code> by <strong>{a.agentId}</strong> on gateway <strong>{a.gatewayId}</strong>, <time dateTime={a.requestedAt ?? undefined}>{when(a.requestedAt)}</time>{' '}
        <DecisionBadge decision={a.decision} />
      </p>
      <div className="cards">
        <section className="card" aria-labelledby="req-h">
          <h2 id="req-h">Request</h2>
          <Fields>
            <F label="Method">{a.request.method}</F>
            <F label="URL">
              <Code v={a.request.url} />
            </F>
            <F label="Content type">{a.request.contentType}</F>
            <F label="Length">{a.request.contentLength !== null ? `${a.request.contentLength} bytes` : null}</F>
            <F label="Body digest">
              <Code v={a.request.bodyDigest} />
              {a.request.bodyTruncated ? ' (parsed up to the limit)' : ''}
            </F>
            <F label="Request digest">
              <Code v={a.request.requestDigest} />
            </F>
            <F label="User agent">{a.request.userAgent}</F>
            <F label="Run">
              <a href={`#/actions?run=${a.runId}`}>{a.run?.command ?? a.runId}</a>
            </F>
          </Fields>
        </section>
        <section className="card" aria-labelledby="cls-h">
          <h2 id="cls-h">Action</h2>
          <Fields>
            <F label="Type">
              <Code v={a.type} />
            </F>
            <F label="Connector">{a.connector}</F>
            <F label="Resource">
              <Code v={a.resource} />
            </F>
            <F label="Risk">{a.risk?.toLowerCase()}</F>
            <F label="Operation">{a.operationId}</F>
            <F label="Parameters">{a.params !== null && a.params !== undefined ? <pre className="json">{pretty(a.params)}</pre> : null}</F>
          </Fields>
        </section>
        <section className="card" aria-labelledby="dec-h">
          <h2 id="dec-h">Decision</h2>
          {d ? (
            <Fields>
              <F label="Decision">
                <DecisionBadge decision={d.decision} /> {d.enforced ? '' : `(monitor mode: not enforced)`}
              </F>
              <F label="Reason">{d.reason}</F>
              <F label="Matched rules">
                {d.matchedRules.length === 0 ? (
                  'none (default)'
                ) : (
                  <ul className="plain">
                    {d.matchedRules.map((r) => (
                      <li key={r}>
                        <code>{r}</code>
                        {r === d.decidingRule ? <strong> (decided)</strong> : null}
                      </li>
                    ))}
                  </ul>
                )}
              </F>
              <F label="Policy version">
                {d.policyVersion !== null ? <a href={`#/policies?gateway=${encodeURIComponent(a.gatewayId)}&version=${d.policyVersion}`}>v{d.policyVersion}</a> : null}
              </F>
              <F label="Policy hash">
                <Code v={d.policyHash} />
              </F>
              <F label="Input digest">
                <Code v={d.inputDigest} />
              </F>
              <F label="Evaluated in">{d.evaluationMicros !== null ? `${d.evaluationMicros.toFixed(1)} µs` : null}</F>
              <F label="Decided by">{d.decidedBy}</F>
              <F label="Decided at">{when(d.decidedAt)}</F>
            </Fields>
          ) : (
            <p className="muted">No decision is recorded yet.</p>
          )}
        </section>
        <section className="card" aria-labelledby="appr-h">
          <h2 id="appr-h">Approval</h2>
          {a.approval ? (
            <Fields>
              <F label="Status">
                <ApprovalStatusBadge status={a.approval.status} />
              </F>
              <F label="Approved by">{a.approval.approvers.length ? a.approval.approvers.join(', ') : null}</F>
              {a.approval.deniedBy ? <F label="Denied by">{`${a.approval.deniedBy}${a.approval.denyReason ? `: ${a.approval.denyReason}` : ''}`}</F> : null}
              <F label="Votes">
                {a.approval.votes.length === 0 ? (
                  'none'
                ) : (
                  <ul className="plain">
                    {a.approval.votes.map((v) => (
                      <li key={`${v.voter}-${v.votedAt}`}>
                        {v.voter} ({v.voterRole?.toLowerCase() ?? 'no role'}): {v.outcome === 'REFUSED' || v.outcome === 'refused' ? 'refused' : v.vote} at {when(v.votedAt)}
                      </li>
                    ))}
                  </ul>
                )}
              </F>
            </Fields>
          ) : (
            <p className="muted">No approval was needed.</p>
          )}
        </section>
        <section className="card" aria-labelledby="cred-h">
          <h2 id="cred-h">Credential</h2>
          {a.credential ? (
            <Fields>
              <F label="Secret">
                <code>{a.credential.secretName}</code> version {a.credential.secretVersion}
              </F>
              <F label="Injected as">{a.credential.injection}</F>
              <F label="Connector">{a.credential.connector}</F>
              <F label="Released to">{a.credential.ingressId}</F>
              <F label="Released at">{when(a.credential.releasedAt)}</F>
            </Fields>
          ) : (
            <p className="muted">No credential was released for this action.</p>
          )}
          <p className="help">Only the secret's name and version are recorded; its value never leaves the vault unsealed.</p>
        </section>
        <section className="card" aria-labelledby="up-h">
          <h2 id="up-h">Upstream</h2>
          {c ? (
            <Fields>
              <F label="Outcome">{outcomeText(c.outcome)}</F>
              <F label="Status">{c.status}</F>
              <F label="Forwarded">{c.forwarded ? 'yes' : 'no'}</F>
              <F label="Upstream latency">{millis(c.upstreamMs)}</F>
              <F label="Total">{millis(c.totalMs)}</F>
              <F label="Bytes">{`${c.bytesIn} from the agent, ${c.bytesOut} back to it`}</F>
              <F label="Credential used">{c.credentialSecretName ? `${c.credentialSecretName} v${c.credentialSecretVersion}` : 'none'}</F>
              <F label="Redactions">{c.redactions}</F>
              <F label="Completed at">{when(c.completedAt)}</F>
            </Fields>
          ) : (
            <p className="muted">Not completed yet.</p>
          )}
        </section>
      </div>
    </div>
  );
}
