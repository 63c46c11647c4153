import type { Decision } from '../api/operations.ts';

/** The live-actions filter form, as typed (all strings, so it round-trips through the URL). */
export interface ActionFilterForm {
  agent: string;
  gateway: string;
  actionType: string;
  /** A run id (set from the runs list). */
  run: string;
  decision: '' | Decision;
  /** A preset window (`15m`, `1h`, `24h`, `7d`), `custom`, or empty for all time. */
  range: '' | '15m' | '1h' | '24h' | '7d' | 'custom';
  /** `datetime-local` values, used when range is `custom`. */
  since: string;
  until: string;
}

export const EMPTY_FILTER: ActionFilterForm = { agent: '', gateway: '', actionType: '', run: '', decision: '', range: '', since: '', until: '' };

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// The same characters the API accepts (libs/audit glob-sql.ts).
const ACTION_GLOB = /^[A-Za-z0-9_.:/*-]{1,256}$/;
const RANGES: Record<string, number> = { '15m': 15 * 60_000, '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000 };

/** The `ActionFilter` input the API takes, or the field-by-field problems of the form. */
export type FilterResult = { ok: true; filter: Record<string, unknown> } | { ok: false; problems: Partial<Record<keyof ActionFilterForm, string>> };

/** Checks the form the way the API will, so a typo is explained next to its field instead of as a failed query. */
export function toActionFilter(form: ActionFilterForm, now: number): FilterResult {
  const problems: Partial<Record<keyof ActionFilterForm, string>> = {};
  const filter: Record<string, unknown> = {};
  const agent = form.agent.trim();
  const gateway = form.gateway.trim();
  const actionType = form.actionType.trim();
  if (agent) {
    if (NAME.test(agent)) filter.agentId = agent;
    else problems.agent = 'An agent id has lowercase letters, digits, - and _ only.';
  }
  if (gateway) {
    if (NAME.test(gateway)) filter.gatewayId = gateway;
    else problems.gateway = 'A gateway id has lowercase letters, digits, - and _ only.';
  }
  if (actionType) {
    if (ACTION_GLOB.test(actionType)) filter.actionType = actionType;
    else problems.actionType = 'Use an action type or a glob such as github.repo.* or stripe.**.';
  }
  const run = form.run.trim().toLowerCase();
  if (run) {
    if (UUID.test(run)) filter.runId = run;
    else problems.run = 'A run id is a UUID.';
  }
  if (form.decision) filter.decision = [form.decision];
  if (form.range && form.range !== 'custom') {
    filter.since = new Date(now - RANGES[form.range]!).toISOString();
  } else if (form.range === 'custom') {
    const since = form.since ? Date.parse(form.since) : NaN;
    const until = form.until ? Date.parse(form.until) : NaN;
    if (form.since && Number.isNaN(since)) problems.since = 'Not a date and time.';
    if (form.until && Number.isNaN(until)) problems.until = 'Not a date and time.';
    if (!Number.isNaN(since)) filter.since = new Date(since).toISOString();
    if (!Number.isNaN(until)) filter.until = new Date(until).toISOString();
    if (!Number.isNaN(since) && !Number.isNaN(until) && since >= until) problems.until = 'Must be after "from".';
  }
  return Object.keys(problems).length > 0 ? { ok: false, problems } : { ok: true, filter };
}

/** Whether a live decision belongs in a list filtered by `filter` (the subscription filters only by agent, gateway and decision). */
export function matchesFilter(
  filter: Record<string, unknown>,
  a: { agentId: string; gatewayId: string; runId: string; type: string | null; decision: Decision | null; requestedAt: string | null },
): boolean {
  if (filter.runId && a.runId !== filter.runId) return false;
  if (filter.agentId && a.agentId !== filter.agentId) return false;
  if (filter.gatewayId && a.gatewayId !== filter.gatewayId) return false;
  if (Array.isArray(filter.decision) && (a.decision === null || !filter.decision.includes(a.decision))) return false;
  if (typeof filter.actionType === 'string' && !globMatches(filter.actionType, a.type ?? '')) return false;
  const t = a.requestedAt ? Date.parse(a.requestedAt) : NaN;
  if (typeof filter.since === 'string' && !(t >= Date.parse(filter.since))) return false;
  if (typeof filter.until === 'string' && !(t < Date.parse(filter.until))) return false;
  return true;
}

/** The API's action-type glob: `*` is one dot-separated segment (or part of one), `**` any depth. */
export function globMatches(glob: string, value: string): boolean {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      while (glob[i + 1] === '*') i++;
    } else if (c === '*') re += '[^.]*';
    else re += c.replace(/[.+?^${}()|[\]\\-]/g, '\\$&');
  }
  return new RegExp(`^${re}$`).test(value);
}

/** Form ⇄ URL query (`#/actions?agent=x&decision=DENY`), so a filtered view can be shared and survives reload. */
export function formToQuery(form: ActionFilterForm): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) if (v) p.set(k, v);
  return p.toString();
}

export function formFromQuery(query: string): ActionFilterForm {
  const p = new URLSearchParams(query);
  const pick = (k: keyof ActionFilterForm) => (p.get(k) ?? '').slice(0, 200);
  const decision = pick('decision');
  const range = pick('range');
  return {
    agent: pick('agent'),
    gateway: pick('gateway'),
    actionType: pick('actionType'),
    run: pick('run'),
    decision: decision === 'ALLOW' || decision === 'DENY' || decision === 'REQUIRE_APPROVAL' ? decision : '',
    range: range === '15m' || range === '1h' || range === '24h' || range === '7d' || range === 'custom' ? range : '',
    since: pick('since'),
    until: pick('until'),
  };
}
