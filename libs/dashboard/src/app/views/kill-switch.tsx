import { useCallback, useId, useState, type FormEvent } from 'react';
import { useApi } from '../api/context.tsx';
import { describeError, isApiError } from '../api/errors.ts';
import { useQuery, useSubscription, useThrottled } from '../api/hooks.ts';
import { ENGAGE, KILL_SWITCHES, KILL_SWITCH_EVENTS, RELEASE, type KillSwitchChange, type KillSwitchResult, type KillSwitchesData, type ScopeKind } from '../api/operations.ts';
import { ConfirmDialog } from '../components/confirm-dialog.tsx';
import { Empty, ErrorBox, LiveIndicator, Loading } from '../components/states.tsx';
import { millis, when } from '../lib/format.ts';
import { can } from '../session.ts';

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export interface ScopeInput {
  kind: ScopeKind;
  value: string | null;
}

/** A scope in words: "every agent", "agent my-agent". */
export function scopeText(s: { kind: ScopeKind; value: string | null }): string {
  return s.kind === 'ALL' ? 'every agent on every gateway' : `${s.kind.toLowerCase()} ${s.value ?? ''}`;
}

/** Checks the engage form; returns the scope or the problem to show. */
export function checkScope(kind: ScopeKind, value: string): { ok: true; scope: ScopeInput } | { ok: false; problem: string } {
  if (kind === 'ALL') return { ok: true, scope: { kind, value: null } };
  const v = value.trim();
  if (!v) return { ok: false, problem: `Name the ${kind.toLowerCase()} to stop.` };
  if (!NAME.test(v)) return { ok: false, problem: `A ${kind.toLowerCase()} id has lowercase letters, digits, - and _ only.` };
  return { ok: true, scope: { kind, value: v } };
}

/** "Took effect on 2 of 2 replicas in 14 ms", or what is missing. */
export function effectText(r: Pick<KillSwitchResult, 'expected' | 'acknowledgements' | 'tookEffectMs' | 'state'>): string {
  const verb = r.state === 'ENGAGED' ? 'Engaged' : 'Released';
  const n = r.acknowledgements.length;
  if (r.expected === 0) return `${verb}. No gateway replica is running right now; each applies it when it starts.`;
  const base = `${verb}: took effect on ${n} of ${r.expected} replica${r.expected === 1 ? '' : 's'}`;
  if (n === 0) return `${base}. None acknowledged in time: check the gateways.`;
  return `${base}${r.tookEffectMs !== null ? ` in ${millis(r.tookEffectMs)}` : ''}${n < r.expected ? '. Some replicas did not acknowledge in time: check them.' : '.'}`;
}

type Pending = { action: 'engage'; scope: ScopeInput; reason: string } | { action: 'release'; change: KillSwitchChange };

/** The kill switch: what is stopped now, engage and release by scope (with a confirmation), and each replica's acknowledgement. */
export function KillSwitchView() {
  const { client, session } = useApi();
  const { state, reload } = useQuery<KillSwitchesData>(KILL_SWITCHES, {});
  const refresh = useThrottled(reload, 300);
  const sub = useSubscription(KILL_SWITCH_EVENTS, {}, refresh, { enabled: true, onReconnect: reload });
  const admin = can(session.role, 'kill');
  const [kind, setKind] = useState<ScopeKind>('AGENT');
  const [value, setValue] = useState('');
  const [reason, setReason] = useState('');
  const [formError, setFormError] = useState<{ field: 'value' | 'reason'; text: string } | null>(null);
  const [pending, setPending] = useState<Pending | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ text: string; acks: KillSwitchResult['acknowledgements']; warn: boolean } | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const id = useId();

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const checked = checkScope(kind, value);
    if (!checked.ok) return setFormError({ field: 'value', text: checked.problem });
    if (!reason.trim()) return setFormError({ field: 'reason', text: 'Say why (it is recorded with the change).' });
    setFormError(null);
    setPending({ action: 'engage', scope: checked.scope, reason: reason.trim() });
  };

  const confirm = useCallback(async () => {
    if (!pending) return;
    setBusy(true);
    setActionError(null);
    try {
      const r =
        pending.action === 'engage'
          ? (await client.request<{ engageKillSwitch: KillSwitchResult }>(ENGAGE, { scope: pending.scope, reason: pending.reason })).engageKillSwitch
          : (await client.request<{ releaseKillSwitch: KillSwitchResult }>(RELEASE, { scope: { kind: pending.change.scope.kind, value: pending.change.scope.value }, reason: null })).releaseKillSwitch;
      setResult({ text: effectText(r), acks: r.acknowledgements, warn: r.acknowledgements.length < r.expected });
      if (pending.action === 'engage') {
        setValue('');
        setReason('');
      }
    } catch (e) {
      const what = pending.action === 'engage' ? 'The kill switch was not engaged' : 'The kill switch was not released';
      setActionError(isApiError(e) ? `${what}. ${describeError(e)}` : `${what}.`);
    } finally {
      setBusy(false);
      setPending(null);
      reload();
    }
  }, [client, pending, reload]);

  const data = state.data;
  return (
    <section aria-labelledby="kill-title">
      <div className="view-head">
        <h1 id="kill-title">Kill switch</h1>
        <div className="view-tools">
          <LiveIndicator status={sub.status} error={sub.error} />
        </div>
      </div>
      <div aria-live="polite">
        {result ? (
          <div className={result.warn ? 'notice notice-warn' : 'notice'} role="status">
            <p>{result.text}</p>
            {result.acks.length > 0 ? <AckTable acks={result.acks} caption="Acknowledgements of this change" /> : null}
          </div>
        ) : null}
        {actionError ? (
          <p className="field-error" role="alert">
            {actionError}
          </p>
        ) : null}
      </div>
      <h2>Engaged now</h2>
      {state.status === 'loading' ? <Loading what="kill switches" /> : null}
      {state.status === 'error' ? <ErrorBox what="kill switches" error={state.error} onRetry={reload} /> : null}
      {data ? (
        data.activeKillSwitches.length === 0 ? (
          <Empty title="No kill switch is engaged: agents run under their policies." />
        ) : (
          <ul className="kill-list">
            {data.activeKillSwitches.map((k) => (
              <li key={k.eventId} className="card kill-card">
                <h3>Stopped: {scopeText(k.scope)}</h3>
                <p>
                  {k.reason ?? 'no reason given'} · by {k.actor} at {when(k.changedAt)}
                </p>
                <AckTable acks={k.acknowledgements} caption={`Replicas that applied the stop of ${scopeText(k.scope)}`} />
                {admin ? (
                  <button type="button" className="btn" onClick={() => setPending({ action: 'release', change: k })}>
                    Release kill switch for {scopeText(k.scope)}
                  </button>
                ) : null}
              </li>
            ))}
          </ul>
        )
      ) : null}
      <h2>Engage</h2>
      {admin ? (
        <form className="engage-form" onSubmit={submit} noValidate aria-label="Engage the kill switch">
          <div className="field">
            <label htmlFor={`${id}-kind`}>Stop</label>
            <select id={`${id}-kind`} value={kind} onChange={(e) => setKind(e.target.value as ScopeKind)}>
              <option value="AGENT">One agent</option>
              <option value="GATEWAY">One gateway</option>
              <option value="CONNECTOR">One connector (API)</option>
              <option value="ALL">Everything</option>
            </select>
          </div>
          {kind !== 'ALL' ? (
            <div className="field">
              <label htmlFor={`${id}-value`}>{kind === 'AGENT' ? 'Agent id' : kind === 'GATEWAY' ? 'Gateway id' : 'Connector id'}</label>
              <input
                id={`${id}-value`}
                value={value}
                onChange={(e) => setValue(e.target.value)}
                autoComplete="off"
                list={kind === 'GATEWAY' ? `${id}-gateways` : undefined}
                aria-invalid={formError?.field === 'value' ? true : undefined}
                aria-describedby={formError?.field === 'value' ? `${id}-err` : undefined}
              />
              {data ? (
                <datalist id={`${id}-gateways`}>
                  {data.gateways.map((g) => (
                    <option key={g.id} value={g.id} />
                  ))}
                </datalist>
              ) : null}
            </div>
          ) : null}
          <div className="field field-wide">
            <label htmlFor={`${id}-reason`}>Reason</label>
            <input
              id={`${id}-reason`}
              value={reason}
              onChange={(e) => setReason(e.target.value)}
              maxLength={1000}
              autoComplete="off"
              aria-invalid={formError?.field === 'reason' ? true : undefined}
              aria-describedby={formError?.field === 'reason' ? `${id}-err` : undefined}
            />
          </div>
          {formError ? (
            <p className="field-error" id={`${id}-err`} role="alert">
              {formError.text}
            </p>
          ) : null}
          <button type="submit" className="btn btn-danger">
            Engage kill switch…
          </button>
          <p className="help">New requests in scope get 403 and open connections are cut on every gateway replica. You confirm on the next step.</p>
        </form>
      ) : (
        <p className="no-vote">Only admin tokens can engage or release the kill switch. You are signed in as {session.role}.</p>
      )}
      <h2>History</h2>
      {data ? (
        data.killSwitchHistory.nodes.length === 0 ? (
          <Empty title="The kill switch has never been used." />
        ) : (
          <div className="table-wrap">
            <table className="table">
              <caption className="visually-hidden">Kill switch changes, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Change</th>
                  <th scope="col">By</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Replicas</th>
                </tr>
              </thead>
              <tbody>
                {data.killSwitchHistory.nodes.map((k) => (
                  <tr key={k.eventId}>
                    <td data-label="When">{when(k.changedAt)}</td>
                    <td data-label="Change">
                      {k.state === 'ENGAGED' ? 'Engaged' : 'Released'} for {scopeText(k.scope)}
                    </td>
                    <td data-label="By">{k.actor}</td>
                    <td data-label="Reason">{k.reason ?? '–'}</td>
                    <td data-label="Replicas">{k.acknowledgements.length} acknowledged</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )
      ) : null}
      <ConfirmDialog
        open={pending !== null}
        busy={busy}
        danger={pending?.action === 'engage'}
        title={pending?.action === 'engage' ? `Stop ${scopeText(pending.scope)}?` : pending ? `Release the kill switch for ${scopeText(pending.change.scope)}?` : ''}
        confirmLabel={pending?.action === 'engage' ? `Engage kill switch for ${scopeText(pending.scope)}` : pending ? `Release kill switch for ${scopeText(pending.change.scope)}` : 'Confirm'}
        onConfirm={confirm}
        onCancel={() => setPending(null)}
      >
        {pending?.action === 'engage' ? (
          <p>
            Every gateway replica refuses new requests from {scopeText(pending.scope)} with 403 and cuts its open connections and streams. Pending approvals in scope are denied. Reason
            recorded: “{pending.reason}”.
          </p>
        ) : pending ? (
          <p>Requests from {scopeText(pending.change.scope)} are decided by policy again from the moment every replica applies the release.</p>
        ) : null}
      </ConfirmDialog>
    </section>
  );
}

function AckTable({ acks, caption }: { acks: readonly { ingressId: string; latencyMs: number; cutConnections: number }[]; caption: string }) {
  if (acks.length === 0) return <p className="muted">No replica has acknowledged yet.</p>;
  return (
    <table className="table acks">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Replica</th>
          <th scope="col">Applied in</th>
          <th scope="col">Connections cut</th>
        </tr>
      </thead>
      <tbody>
        {acks.map((a) => (
          <tr key={a.ingressId}>
            <td data-label="Replica">
              <code>{a.ingressId}</code>
            </td>
            <td data-label="Applied in">{millis(a.latencyMs)}</td>
            <td data-label="Connections cut">{a.cutConnections}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
