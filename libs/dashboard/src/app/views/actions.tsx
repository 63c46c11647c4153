import { useCallback, useEffect, useId, useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { useApi } from '../api/context.tsx';
import { useQuery, useSubscription, useThrottled } from '../api/hooks.ts';
import { describeError, isApiError, type ApiError } from '../api/errors.ts';
import { ACTIONS, DECISIONS_SUBSCRIPTION, type ActionSummary, type ActionsData, type DecisionEventData } from '../api/operations.ts';
import { DecisionBadge, outcomeText } from '../components/badges.tsx';
import { Empty, ErrorBox, LiveIndicator, Loading } from '../components/states.tsx';
import { EMPTY_FILTER, formToQuery, matchesFilter, toActionFilter, type ActionFilterForm } from '../lib/filters.ts';
import { millis, when } from '../lib/format.ts';
import { navigate } from '../router.ts';

const PAGE = 50;

/** Live actions: the recorded actions matching the filters, with new decisions arriving as they happen. */
export function ActionsView({ form, query }: { form: ActionFilterForm; query: string }) {
  const { client } = useApi();
  // The time presets are relative to when the filter was applied, not to every render.
  const [appliedAt, setAppliedAt] = useState(() => Date.now());
  useEffect(() => setAppliedAt(Date.now()), [query]);
  const checked = useMemo(() => toActionFilter(form, appliedAt), [form, appliedAt]);
  const filter = checked.ok ? checked.filter : null;
  const variables = useMemo(() => (filter ? { filter, first: PAGE } : null), [filter]);
  const { state, reload, refreshing } = useQuery<ActionsData>(ACTIONS, variables);
  const [live, setLive] = useState<ActionSummary[]>([]);
  const [more, setMore] = useState<{ rows: ActionSummary[]; endCursor: string | null; hasNextPage: boolean } | null>(null);
  const [moreError, setMoreError] = useState<ApiError | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [paused, setPaused] = useState(false);

  useEffect(() => {
    setLive([]);
    setMore(null);
    setMoreError(null);
  }, [variables]);
  // Once a reload holds a live row, the list shows it from there (with its completion).
  useEffect(() => {
    if (state.status !== 'ready') return;
    const loaded = new Set(state.data.actions.nodes.map((a) => a.id));
    setLive((l) => (l.some((a) => loaded.has(a.id)) ? l.filter((a) => !loaded.has(a.id)) : l));
  }, [state]);

  const settle = useThrottled(reload, 1500);
  const subVars = useMemo(() => {
    const v: Record<string, unknown> = {};
    if (filter?.gatewayId) v.gatewayId = filter.gatewayId;
    if (filter?.agentId) v.agentId = filter.agentId;
    if (filter?.decision) v.decision = filter.decision;
    return v;
  }, [filter]);
  const onDecision = useCallback(
    (d: DecisionEventData) => {
      const e = d.decisions;
      const row: ActionSummary = e.action ?? {
        id: e.actionId,
        gatewayId: e.gatewayId,
        agentId: e.agentId,
        agentName: null,
        runId: e.runId,
        requestedAt: e.time,
        type: null,
        connector: null,
        resource: null,
        risk: null,
        decision: e.decision,
        request: { method: null, url: null, host: null },
        decided: { reason: e.reason, matchedRules: e.matchedRules, decidingRule: e.decidingRule, policyVersion: e.policyVersion, enforced: e.enforced },
        completion: null,
      };
      const merged = { ...row, decision: e.decision };
      // The subscription already filters by agent, gateway and decision; a row not yet projected
      // has no type, so a type or an end-time filter waits for the reload to place it.
      const belongs = filter !== null && (e.action ? matchesFilter(filter, { ...merged, requestedAt: merged.requestedAt ?? e.time }) : !filter.actionType && !filter.until && (!filter.runId || filter.runId === e.runId));
      if (belongs) setLive((l) => [merged, ...l.filter((x) => x.id !== merged.id)].slice(0, 200));
      // The completion (status, latency) lands after the decision: reload shortly to show it.
      settle();
    },
    [filter, settle],
  );
  const sub = useSubscription<DecisionEventData>(DECISIONS_SUBSCRIPTION, subVars, onDecision, { enabled: !paused && filter !== null, onReconnect: reload });

  const base = state.data?.actions.nodes ?? [];
  const rows = useMemo(() => {
    const seen = new Set<string>();
    const out: ActionSummary[] = [];
    for (const r of [...live, ...base, ...(more?.rows ?? [])]) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      out.push(r);
    }
    return out;
  }, [live, base, more]);

  const pageInfo = more ?? (state.data ? { endCursor: state.data.actions.pageInfo.endCursor, hasNextPage: state.data.actions.pageInfo.hasNextPage } : null);
  async function loadMore() {
    if (!pageInfo?.endCursor || !filter) return;
    setLoadingMore(true);
    setMoreError(null);
    try {
      const data = await client.request<ActionsData>(ACTIONS, { filter, first: PAGE, after: pageInfo.endCursor });
      setMore((m) => ({ rows: [...(m?.rows ?? []), ...data.actions.nodes], endCursor: data.actions.pageInfo.endCursor, hasNextPage: data.actions.pageInfo.hasNextPage }));
    } catch (e) {
      if (isApiError(e)) setMoreError(e);
    } finally {
      setLoadingMore(false);
    }
  }

  const filtered = formToQuery(form) !== '';
  return (
    <section aria-labelledby="actions-title">
      <div className="view-head">
        <h1 id="actions-title">Live actions</h1>
        <div className="view-tools">
          <LiveIndicator status={sub.status} error={sub.error} />
          <button type="button" className="btn" aria-pressed={paused} onClick={() => setPaused((p) => !p)}>
            {paused ? 'Resume live updates' : 'Pause live updates'}
          </button>
        </div>
      </div>
      <ActionFilters form={form} problems={checked.ok ? {} : checked.problems} />
      {state.status === 'loading' ? <Loading what="actions" /> : null}
      {state.status === 'error' ? <ErrorBox what="actions" error={state.error} onRetry={reload} /> : null}
      {state.data ? (
        <>
          <p className="count" aria-live="polite">
            {state.data.actions.totalCount}
            {state.data.actions.totalCountCapped ? '+' : ''} {filtered ? 'matching ' : ''}actions{live.length > 0 ? `, ${live.length} new` : ''}
            {refreshing ? ' (updating…)' : ''}
          </p>
          {rows.length === 0 ? (
            filtered ? (
              <Empty title="No actions match these filters.">Clear a filter or widen the time range.</Empty>
            ) : (
              <Empty title="No actions recorded yet.">
                Run an agent through the gateway (<code>tf run -- my-agent python agent.py</code>) and its requests appear here as they are decided.
              </Empty>
            )
          ) : (
            <ActionTable rows={rows} />
          )}
          {pageInfo?.hasNextPage ? (
            <button type="button" className="btn" onClick={loadMore} disabled={loadingMore}>
              {loadingMore ? 'Loading…' : 'Load older actions'}
            </button>
          ) : null}
          {moreError ? (
            <p className="field-error" role="alert">
              {describeError(moreError)}
            </p>
          ) : null}
        </>
      ) : null}
    </section>
  );
}

function ActionTable({ rows }: { rows: ActionSummary[] }) {
  return (
    <div className="table-wrap">
      <table className="table actions-table">
        <caption className="visually-hidden">Actions, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Agent</th>
            <th scope="col">Action</th>
            <th scope="col">Request</th>
            <th scope="col">Decision</th>
            <th scope="col">Upstream</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((a) => (
            <tr key={a.id}>
              <td data-label="Time">
                <a href={`#/actions/${a.id}`} aria-label={`Details of ${a.type ?? 'action'} by ${a.agentId} at ${when(a.requestedAt)}`}>
                  <time dateTime={a.requestedAt ?? undefined}>{when(a.requestedAt)}</time>
                </a>
              </td>
              <td data-label="Agent">
                {a.agentId}
                <span className="muted"> on {a.gatewayId}</span>
              </td>
              <td data-label="Action">
                <code>{a.type ?? '…'}</code>
                {a.resource ? <span className="muted"> {a.resource}</span> : null}
              </td>
              <td data-label="Request" className="url-cell">
                {a.request.method ? <strong>{a.request.method} </strong> : null}
                {a.request.host ?? ''}
              </td>
              <td data-label="Decision">
                <DecisionBadge decision={a.decision} />
                {a.decided && !a.decided.enforced ? <span className="muted"> (monitor)</span> : null}
              </td>
              <td data-label="Upstream">
                {a.completion ? (
                  <>
                    {a.completion.status ?? outcomeText(a.completion.outcome)} <span className="muted">{millis(a.completion.upstreamMs ?? a.completion.totalMs)}</span>
                  </>
                ) : (
                  <span className="muted">–</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The filter form. Applying it changes the URL, so the filtered view survives a reload and can be shared. */
function ActionFilters({ form, problems }: { form: ActionFilterForm; problems: Partial<Record<keyof ActionFilterForm, string>> }) {
  const [draft, setDraft] = useState(form);
  useEffect(() => setDraft(form), [form]);
  const id = useId();
  const set = (k: keyof ActionFilterForm) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [k]: e.target.value }));
  const apply = (e: FormEvent) => {
    e.preventDefault();
    const q = formToQuery(draft);
    navigate(q ? `/actions?${q}` : '/actions');
  };
  const field = (k: keyof ActionFilterForm, label: string, input: ReactNode) => (
    <div className="field">
      <label htmlFor={`${id}-${k}`}>{label}</label>
      {input}
      {problems[k] ? (
        <p className="field-error" id={`${id}-${k}-error`}>
          {problems[k]}
        </p>
      ) : null}
    </div>
  );
  const aria = (k: keyof ActionFilterForm) => ({ id: `${id}-${k}`, 'aria-invalid': problems[k] ? true : undefined, 'aria-describedby': problems[k] ? `${id}-${k}-error` : undefined });
  return (
    <form className="filters" onSubmit={apply} aria-label="Filter actions">
      {field('agent', 'Agent', <input {...aria('agent')} value={draft.agent} onChange={set('agent')} placeholder="any" autoComplete="off" />)}
      {field('gateway', 'Gateway', <input {...aria('gateway')} value={draft.gateway} onChange={set('gateway')} placeholder="any" autoComplete="off" />)}
      {field('actionType', 'Action type', <input {...aria('actionType')} value={draft.actionType} onChange={set('actionType')} placeholder="e.g. github.repo.*" autoComplete="off" />)}
      {field(
        'decision',
        'Decision',
        <select {...aria('decision')} value={draft.decision} onChange={set('decision')}>
          <option value="">Any</option>
          <option value="ALLOW">Allowed</option>
          <option value="DENY">Denied</option>
          <option value="REQUIRE_APPROVAL">Needs approval</option>
        </select>,
      )}
      {field(
        'range',
        'Time',
        <select {...aria('range')} value={draft.range} onChange={set('range')}>
          <option value="">All time</option>
          <option value="15m">Last 15 minutes</option>
          <option value="1h">Last hour</option>
          <option value="24h">Last 24 hours</option>
          <option value="7d">Last 7 days</option>
          <option value="custom">Between…</option>
        </select>,
      )}
      {draft.run ? field('run', 'Run', <input {...aria('run')} value={draft.run} onChange={set('run')} autoComplete="off" />) : null}
      {draft.range === 'custom' ? (
        <>
          {field('since', 'From', <input {...aria('since')} type="datetime-local" value={draft.since} onChange={set('since')} />)}
          {field('until', 'Until', <input {...aria('until')} type="datetime-local" value={draft.until} onChange={set('until')} />)}
        </>
      ) : null}
      <div className="filter-buttons">
        <button type="submit" className="btn btn-primary">
          Apply filters
        </button>
        <button
          type="button"
          className="btn"
          onClick={() => {
            setDraft(EMPTY_FILTER);
            navigate('/actions');
          }}
        >
          Clear filters
        </button>
      </div>
    </form>
  );
}
