import type { CompiledBundle } from './compile-bundle.ts';
import { PolicyErrorCode } from './errors.ts';
import type { EvaluationInput, EvaluationResult } from './types.ts';

/**
 * One allowed action that counts towards a session aggregate. The list of entries for one
 * agent on one gateway is the session state: stored in KV `tf_sessions` by the policy service
 * (updated with compare-and-set before an allow is recorded), simulated in memory by backtests,
 * and rebuildable from recorded ActionDecided events.
 */
export interface SessionEntry {
  /** The action id. */
  id: string;
  /** Decision time, milliseconds since the epoch. */
  at: number;
  run: string;
  type: string;
  /** Numeric parameters some `sum` aggregate adds up. */
  n?: Record<string, number>;
}

/** Session state of one agent on one gateway, oldest entry first. */
export interface SessionState {
  v: 1;
  entries: SessionEntry[];
}

/** Most entries one agent's session keeps; beyond it the engine denies rather than undercount. */
export const SESSION_ENTRY_LIMIT = 5000;

/** The KV key of an agent's session state on a gateway. */
export function sessionKey(gatewayId: string, agentId: string): string {
  return `${gatewayId}.agent.${agentId}`;
}

/**
 * The values of the named aggregates at the input's time, from the entries of this agent.
 * Every entry is a decision made before this one, so only the window's lower bound applies.
 */
export function computeSession(bundle: CompiledBundle, names: readonly string[], entries: readonly SessionEntry[], input: Pick<EvaluationInput, 'runId' | 'time'>): Record<string, number> {
  const out: Record<string, number> = {};
  if (names.length === 0) return out;
  const t = Date.parse(input.time);
  for (const name of names) {
    const a = bundle.document.aggregates.find((x) => x.name === name);
    if (!a) continue;
    const from = t - a.windowMs;
    let value = 0;
    for (let i = entries.length - 1; i >= 0; i--) {
      const e = entries[i]!;
      if (e.at <= from) break;
      if (a.scope === 'run' && e.run !== input.runId) continue;
      if (!bundle.aggregatesFor(e.type).includes(a)) continue;
      value += a.kind === 'count' ? 1 : (e.n?.[a.param!] ?? 0);
    }
    out[name] = value;
  }
  return out;
}

/** The entry an allowed action adds to its session, or null when no aggregate counts it. */
export function sessionEntryFor(bundle: CompiledBundle, input: EvaluationInput, actionId: string): SessionEntry | null {
  const aggregates = bundle.aggregatesFor(input.action.type);
  if (aggregates.length === 0) return null;
  const entry: SessionEntry = { id: actionId, at: Date.parse(input.time), run: input.runId, type: input.action.type };
  for (const a of aggregates) {
    if (a.kind !== 'sum') continue;
    const v = input.action.params[a.param!];
    if (typeof v === 'number' && Number.isFinite(v)) (entry.n ??= {})[a.param!] = v;
  }
  return entry;
}

/**
 * The state after adding `entry`, with entries older than the bundle's longest window dropped.
 * Returns null when the state would exceed {@link SESSION_ENTRY_LIMIT}.
 */
export function appendSessionEntry(bundle: CompiledBundle, entries: readonly SessionEntry[], entry: SessionEntry): SessionEntry[] | null {
  const from = entry.at - bundle.maxWindowMs;
  let start = 0;
  while (start < entries.length && entries[start]!.at <= from) start++;
  const next = entries.slice(start);
  // Keep the list ordered by time even if replica clocks disagree a little.
  let i = next.length;
  while (i > 0 && next[i - 1]!.at > entry.at) i--;
  next.splice(i, 0, entry);
  return next.length > SESSION_ENTRY_LIMIT ? null : next;
}

/** The deny that replaces an allow when the session state is full. */
export function sessionOverflowResult(result: EvaluationResult): EvaluationResult {
  return {
    ...result,
    decision: 'deny',
    approval: null,
    reason: 'Denied: this agent has too many recent actions for session-aware policy to track',
    error: { code: PolicyErrorCode.SessionOverflow, message: `the session state holds more than ${SESSION_ENTRY_LIMIT} entries within the longest aggregate window` },
  };
}

/** The session state value stored in KV (JSON). */
export function sessionStateOf(entries: readonly SessionEntry[]): SessionState {
  return { v: 1, entries: [...entries] };
}

/**
 * Parses a session state read from KV, as JSON text or as the parsed value.
 *
 * @throws Error when the value is not a session state (the caller denies: fail closed).
 */
export function decodeSessionState(value: unknown): SessionEntry[] {
  const v = (typeof value === 'string' ? JSON.parse(value) : value) as SessionState | null;
  if (v?.v !== 1 || !Array.isArray(v.entries)) throw new Error('not a session state (v1)');
  for (const e of v.entries) {
    if (typeof e?.id !== 'string' || typeof e.at !== 'number' || typeof e.run !== 'string' || typeof e.type !== 'string') {
      throw new Error('malformed session entry');
    }
  }
  return v.entries;
}
