import { useEffect, useId, useMemo, useState, type FormEvent } from 'react';
import { useApi } from '../api/context.tsx';
import { describeError, isApiError } from '../api/errors.ts';
import { useQuery } from '../api/hooks.ts';
import { BACKTEST, POLICIES, type BacktestData, type BacktestReport, type PoliciesData, type PolicyVersion } from '../api/operations.ts';
import { decisionText } from '../components/badges.tsx';
import { Empty, ErrorBox, Loading } from '../components/states.tsx';
import { diffLines, diffStats, foldUnchanged } from '../lib/diff.ts';
import { short, when } from '../lib/format.ts';
import { navigate } from '../router.ts';

const PERIODS: Record<string, number> = { '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 };

/** Policies: the active version of a gateway, its history, a diff of two versions, and a backtest of a candidate. */
export function PoliciesView({ query }: { query: string }) {
  const params = new URLSearchParams(query);
  const gatewayParam = params.get('gateway');
  const versionParam = params.get('version');
  const gateways = useQuery<PoliciesData>(POLICIES, gatewayParam ? { gatewayId: gatewayParam } : {});
  const id = useId();
  const data = gateways.state.data;
  // Without a chosen gateway, show the first one that has a policy (the unfiltered answer holds every gateway's versions).
  const gatewayId = gatewayParam ?? (data && data.gateways.length > 0 ? (data.gateways.find((g) => g.activePolicyVersion !== null) ?? data.gateways[0]!).id : null);

  const gateway = data?.gateways.find((g) => g.id === gatewayId) ?? null;
  const versions = useMemo(() => (data?.policyVersions.nodes ?? []).filter((v) => v.gatewayId === gatewayId), [data, gatewayId]);
  const active = versions.find((v) => v.version === gateway?.activePolicyVersion) ?? versions[0] ?? null;
  const shown = versions.find((v) => String(v.version) === versionParam) ?? active;

  return (
    <section aria-labelledby="policies-title">
      <div className="view-head">
        <h1 id="policies-title">Policies</h1>
        {data && data.gateways.length > 0 ? (
          <div className="view-tools field-inline">
            <label htmlFor={`${id}-gw`}>Gateway</label>
            <select id={`${id}-gw`} value={gatewayId ?? ''} onChange={(e) => navigate(`/policies?gateway=${encodeURIComponent(e.target.value)}`)}>
              {data.gateways.map((g) => (
                <option key={g.id} value={g.id}>
                  {g.name === g.id ? g.id : `${g.name} (${g.id})`}
                </option>
              ))}
            </select>
          </div>
        ) : null}
      </div>
      {gateways.state.status === 'loading' ? <Loading what="policies" /> : null}
      {gateways.state.status === 'error' ? <ErrorBox what="policies" error={gateways.state.error} onRetry={gateways.reload} /> : null}
      {data && data.gateways.length === 0 ? <Empty title="No gateway exists yet.">Create one and apply a policy with <code>tf policy apply</code>.</Empty> : null}
      {data && gateway && versions.length === 0 ? (
        <Empty title={`Gateway ${gateway.id} has no published policy.`}>
          Apply one with <code>tf policy apply</code>; until then it runs in {gateway.mode} mode.
        </Empty>
      ) : null}
      {gateway && shown ? (
        <>
          <section className="card" aria-labelledby={`${id}-active`}>
            <h2 id={`${id}-active`}>
              Version {shown.version}
              {shown.version === gateway.activePolicyVersion ? <span className="badge badge-allow">Active</span> : <span className="badge">Not active</span>}
            </h2>
            <p className="muted">
              {shown.ruleCount} rules · published by {shown.publishedBy} at {when(shown.publishedAt)} · hash <code title={shown.hash}>{short(shown.hash)}</code> · gateway mode {gateway.mode}
            </p>
            <details>
              <summary>Source (YAML)</summary>
              <pre className="source">{shown.source}</pre>
            </details>
          </section>
          <History versions={versions} activeVersion={gateway.activePolicyVersion} gatewayId={gateway.id} />
          <PolicyDiff versions={versions} />
          <Backtest gatewayId={gateway.id} initialSource={active?.source ?? ''} />
        </>
      ) : null}
    </section>
  );
}

function History({ versions, activeVersion, gatewayId }: { versions: PolicyVersion[]; activeVersion: number | null; gatewayId: string }) {
  return (
    <section aria-labelledby="history-h">
      <h2 id="history-h">History</h2>
      <div className="table-wrap">
        <table className="table">
          <caption className="visually-hidden">Published versions, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Version</th>
              <th scope="col">Published</th>
              <th scope="col">By</th>
              <th scope="col">Rules</th>
              <th scope="col">Hash</th>
            </tr>
          </thead>
          <tbody>
            {versions.map((v) => (
              <tr key={v.version}>
                <td data-label="Version">
                  <a href={`#/policies?gateway=${encodeURIComponent(gatewayId)}&version=${v.version}`}>v{v.version}</a>
                  {v.version === activeVersion ? ' (active)' : ''}
                </td>
                <td data-label="Published">{when(v.publishedAt)}</td>
                <td data-label="By">{v.publishedBy}</td>
                <td data-label="Rules">{v.ruleCount}</td>
                <td data-label="Hash">
                  <code title={v.hash}>{short(v.hash)}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function PolicyDiff({ versions }: { versions: PolicyVersion[] }) {
  const id = useId();
  const newest = versions[0];
  const [to, setTo] = useState<number | null>(newest?.version ?? null);
  const [from, setFrom] = useState<number | null>(versions[1]?.version ?? newest?.version ?? null);
  useEffect(() => {
    setTo(versions[0]?.version ?? null);
    setFrom(versions[1]?.version ?? versions[0]?.version ?? null);
  }, [versions]);
  const a = versions.find((v) => v.version === from);
  const b = versions.find((v) => v.version === to);
  const lines = useMemo(() => (a && b ? diffLines(a.source, b.source) : []), [a, b]);
  const stats = diffStats(lines);
  const folded = useMemo(() => foldUnchanged(lines), [lines]);
  if (versions.length < 2) return null;
  return (
    <section aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Compare versions</h2>
      <div className="filters">
        <div className="field">
          <label htmlFor={`${id}-from`}>From</label>
          <select id={`${id}-from`} value={from ?? ''} onChange={(e) => setFrom(Number(e.target.value))}>
            {versions.map((v) => (
              <option key={v.version} value={v.version}>
                v{v.version}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-to`}>To</label>
          <select id={`${id}-to`} value={to ?? ''} onChange={(e) => setTo(Number(e.target.value))}>
            {versions.map((v) => (
              <option key={v.version} value={v.version}>
                v{v.version}
              </option>
            ))}
          </select>
        </div>
      </div>
      {a && b ? (
        a.version === b.version ? (
          <p className="muted">Pick two different versions to see what changed.</p>
        ) : (
          <>
            <p aria-live="polite">
              v{a.version} → v{b.version}: {stats.added} line{stats.added === 1 ? '' : 's'} added, {stats.removed} removed.
            </p>
            <pre className="diff" aria-label={`Differences from version ${a.version} to version ${b.version}`}>
              {folded.map((l, i) =>
                l.kind === 'gap' ? (
                  <span key={i} className="diff-gap">
                    ⋯ {l.count} unchanged line{l.count === 1 ? '' : 's'}
                    {'\n'}
                  </span>
                ) : (
                  <span key={i} className={`diff-${l.kind}`}>
                    <span className="diff-sign" aria-hidden="true">
                      {l.kind === 'added' ? '+' : l.kind === 'removed' ? '−' : ' '}
                    </span>
                    {l.kind === 'added' ? <span className="visually-hidden">added: </span> : l.kind === 'removed' ? <span className="visually-hidden">removed: </span> : null}
                    {l.text}
                    {'\n'}
                  </span>
                ),
              )}
            </pre>
          </>
        )
      ) : null}
    </section>
  );
}

function Backtest({ gatewayId, initialSource }: { gatewayId: string; initialSource: string }) {
  const { client } = useApi();
  const id = useId();
  const [source, setSource] = useState(initialSource);
  const [period, setPeriod] = useState('7d');
  const [busy, setBusy] = useState(false);
  const [report, setReport] = useState<BacktestReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setSource(initialSource);
    setReport(null);
    setError(null);
  }, [initialSource, gatewayId]);

  async function run(e: FormEvent) {
    e.preventDefault();
    if (!source.trim()) {
      setError('Paste the candidate policy (YAML) to test.');
      return;
    }
    setBusy(true);
    setError(null);
    setReport(null);
    try {
      const since = new Date(Date.now() - PERIODS[period]!).toISOString();
      const data = await client.request<BacktestData>(BACKTEST, { source, since, gatewayId });
      setReport(data.policyBacktest);
    } catch (err) {
      setError(isApiError(err) ? `The backtest did not run. ${describeError(err)}` : 'The backtest did not run.');
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Backtest a candidate policy</h2>
      <p className="help">Replays the recorded actions of this gateway against the candidate and lists every decision that would change. Nothing is published.</p>
      <form onSubmit={run} className="backtest-form" aria-busy={busy}>
        <div className="field field-wide">
          <label htmlFor={`${id}-src`}>Candidate policy (YAML)</label>
          <textarea id={`${id}-src`} value={source} onChange={(e) => setSource(e.target.value)} rows={10} spellCheck={false} aria-invalid={error ? true : undefined} aria-describedby={error ? `${id}-err` : undefined} />
        </div>
        <div className="field">
          <label htmlFor={`${id}-period`}>Over the last</label>
          <select id={`${id}-period`} value={period} onChange={(e) => setPeriod(e.target.value)}>
            <option value="24h">24 hours</option>
            <option value="7d">7 days</option>
            <option value="30d">30 days</option>
          </select>
        </div>
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Running backtest…' : 'Run backtest'}
        </button>
      </form>
      {error ? (
        <p className="field-error" id={`${id}-err`} role="alert">
          {error}
        </p>
      ) : null}
      {busy ? <Loading what="the backtest" /> : null}
      {report ? <BacktestResult r={report} /> : null}
    </section>
  );
}

/** `allow->require_approval` as "Allowed → Needs approval". */
export function transitionText(t: string): string {
  return t
    .split('->')
    .map((d) => {
      const k = d.trim().toUpperCase();
      return k === 'ALLOW' || k === 'DENY' || k === 'REQUIRE_APPROVAL' ? decisionText(k) : d;
    })
    .join(' → ');
}

function BacktestResult({ r }: { r: BacktestReport }) {
  return (
    <div className="card" role="region" aria-label="Backtest result">
      <p>
        <strong>
          {r.changed} of {r.evaluated} decisions would change
        </strong>{' '}
        ({r.unchanged} unchanged, {r.ruleChanged} decided by another rule with the same result) over {r.total} recorded actions
        {r.periodFrom ? ` from ${when(r.periodFrom)}` : ''}
        {r.periodTo ? ` to ${when(r.periodTo)}` : ''}. Candidate: {r.candidateRules} rules, hash <code title={r.candidateHash}>{short(r.candidateHash)}</code>.
        {r.limited ? ' The replay stopped at its action limit before the end of the period.' : ''}
      </p>
      {r.transitions.length > 0 ? (
        <ul className="plain">
          {r.transitions.map((t) => (
            <li key={t.transition}>
              {transitionText(t.transition)}: {t.count}
            </li>
          ))}
        </ul>
      ) : null}
      {r.changes.length === 0 ? (
        <p className="muted">No recorded decision would change.</p>
      ) : (
        <div className="table-wrap">
          <table className="table">
            <caption>Decisions that would change{r.truncated ? ' (first ones only)' : ''}</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Agent</th>
                <th scope="col">Action</th>
                <th scope="col">Was</th>
                <th scope="col">Would be</th>
              </tr>
            </thead>
            <tbody>
              {r.changes.map((c) => (
                <tr key={c.actionId}>
                  <td data-label="When">
                    <a href={`#/actions/${c.actionId}`}>{when(c.time)}</a>
                  </td>
                  <td data-label="Agent">{c.agentId}</td>
                  <td data-label="Action">
                    <code>{c.actionType}</code>
                    {c.resource ? <span className="muted"> {c.resource}</span> : null}
                  </td>
                  <td data-label="Was">
                    {decisionText(c.before.decision)} {c.before.rule ? <code>{c.before.rule}</code> : null}
                  </td>
                  <td data-label="Would be">
                    {decisionText(c.after.decision)} {c.after.rule ? <code>{c.after.rule}</code> : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
