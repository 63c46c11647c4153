import { useId, useMemo, useState } from 'react';
import { useQuery } from '../api/hooks.ts';
import { AGENTS_AND_RUNS, type AgentsAndRunsData } from '../api/operations.ts';
import { DecisionChart } from '../components/decision-chart.tsx';
import { Empty, ErrorBox, Loading } from '../components/states.tsx';
import { duration, when } from '../lib/format.ts';

const WINDOWS = {
  '1h': { ms: 3_600_000, bucket: 'MINUTE', label: 'last hour, per minute' },
  '24h': { ms: 86_400_000, bucket: 'HOUR', label: 'last 24 hours, per hour' },
  '7d': { ms: 7 * 86_400_000, bucket: 'HOUR', label: 'last 7 days, per hour' },
} as const;
type WindowKey = keyof typeof WINDOWS;

/** The chart window as query variables, aligned to whole buckets so bars do not shift between reloads. */
export function chartRange(key: WindowKey, now: number): { since: string; until: string; bucket: string } {
  const w = WINDOWS[key];
  const step = w.bucket === 'MINUTE' ? 60_000 : 3_600_000;
  const until = Math.ceil(now / step) * step;
  return { since: new Date(until - w.ms).toISOString(), until: new Date(until).toISOString(), bucket: w.bucket };
}

/** Agents and runs: who ran what and when, counts by decision, and decisions over time. */
export function AgentsView() {
  const id = useId();
  const [win, setWin] = useState<WindowKey>('24h');
  const [agent, setAgent] = useState('');
  const [at, setAt] = useState(() => Date.now());
  const variables = useMemo(() => ({ ...chartRange(win, at), filter: agent ? { agentId: agent } : {} }), [win, at, agent]);
  const { state, reload, refreshing } = useQuery<AgentsAndRunsData>(AGENTS_AND_RUNS, variables);
  const data = state.data;
  return (
    <section aria-labelledby="agents-title">
      <div className="view-head">
        <h1 id="agents-title">Agents and runs</h1>
        <div className="view-tools">
          <div className="field-inline">
            <label htmlFor={`${id}-win`}>Chart</label>
            <select id={`${id}-win`} value={win} onChange={(e) => (setWin(e.target.value as WindowKey), setAt(Date.now()))}>
              <option value="1h">Last hour</option>
              <option value="24h">Last 24 hours</option>
              <option value="7d">Last 7 days</option>
            </select>
          </div>
          <button type="button" className="btn" onClick={() => (setAt(Date.now()), reload())} disabled={refreshing}>
            {refreshing ? 'Refreshing…' : 'Refresh'}
          </button>
        </div>
      </div>
      {state.status === 'loading' ? <Loading what="agents and runs" /> : null}
      {state.status === 'error' ? <ErrorBox what="agents and runs" error={state.error} onRetry={reload} /> : null}
      {data ? (
        <>
          <DecisionChart buckets={data.decisionsOverTime} caption={`Decisions, ${WINDOWS[win].label}`} />
          <h2>Agents</h2>
          {data.agents.nodes.length === 0 ? (
            <Empty title="No agent has run yet.">
              Start one with <code>tf run -- my-agent python agent.py</code>.
            </Empty>
          ) : (
            <div className="table-wrap">
              <table className="table">
                <caption className="visually-hidden">Agents, most recently seen first</caption>
                <thead>
                  <tr>
                    <th scope="col">Agent</th>
                    <th scope="col">Runs</th>
                    <th scope="col">Actions</th>
                    <th scope="col">First seen</th>
                    <th scope="col">Last seen</th>
                  </tr>
                </thead>
                <tbody>
                  {data.agents.nodes.map((a) => (
                    <tr key={a.id}>
                      <td data-label="Agent">
                        <strong>{a.id}</strong>
                        {a.name && a.name !== a.id ? <span className="muted"> {a.name}</span> : null}{' '}
                        <button type="button" className="btn btn-small" onClick={() => setAgent(agent === a.id ? '' : a.id)}>
                          {agent === a.id ? 'Show all runs' : `Show runs of ${a.id}`}
                        </button>
                      </td>
                      <td data-label="Runs">{a.runCount}</td>
                      <td data-label="Actions">
                        <a href={`#/actions?agent=${encodeURIComponent(a.id)}`}>{a.actionCount} actions</a>
                      </td>
                      <td data-label="First seen">{when(a.firstSeenAt)}</td>
                      <td data-label="Last seen">{when(a.lastSeenAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <h2>{agent ? `Runs of ${agent}` : 'Runs'}</h2>
          {data.runs.nodes.length === 0 ? (
            <Empty title="No runs recorded." />
          ) : (
            <div className="table-wrap">
              <table className="table">
                <caption className="visually-hidden">Runs, newest first, with counts by decision</caption>
                <thead>
                  <tr>
                    <th scope="col">Started</th>
                    <th scope="col">Agent</th>
                    <th scope="col">Command</th>
                    <th scope="col">Ended</th>
                    <th scope="col">Allowed</th>
                    <th scope="col">Approval</th>
                    <th scope="col">Denied</th>
                  </tr>
                </thead>
                <tbody>
                  {data.runs.nodes.map((r) => (
                    <tr key={r.id}>
                      <td data-label="Started">
                        <a href={`#/actions?run=${r.id}`} aria-label={`Actions of the run of ${r.agentId} started ${when(r.startedAt ?? r.firstActionAt)}`}>
                          {when(r.startedAt ?? r.firstActionAt)}
                        </a>
                      </td>
                      <td data-label="Agent">
                        {r.agentId}
                        <span className="muted">
                          {' '}
                          on {r.gatewayId}
                          {r.hostname ? ` · ${r.hostname}` : ''}
                        </span>
                      </td>
                      <td data-label="Command">
                        <code className="break">{r.command ?? '–'}</code>
                      </td>
                      <td data-label="Ended">
                        {r.endedAt ? (
                          <>
                            {r.signal ? `signal ${r.signal}` : `exit ${r.exitCode ?? '?'}`}
                            {r.durationMs !== null ? <span className="muted"> after {duration(r.durationMs)}</span> : null}
                          </>
                        ) : (
                          <span className="badge badge-running">Running</span>
                        )}
                      </td>
                      <td data-label="Allowed">{r.decisions.allow}</td>
                      <td data-label="Approval">{r.decisions.requireApproval}</td>
                      <td data-label="Denied">{r.decisions.deny}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      ) : null}
    </section>
  );
}
