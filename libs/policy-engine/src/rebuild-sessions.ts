import { readPair, type RecordedDecision } from './backtest.ts';
import type { CompiledBundle } from './compile-bundle.ts';
import { buildInput } from './input.ts';
import { appendSessionEntry, sessionEntryFor, sessionKey, type SessionEntry } from './session.ts';

/**
 * Rebuilds the session state (KV `tf_sessions`) from recorded decisions: every allowed action
 * the bundle's aggregates count, kept within its longest window as of `now`. The KV state is a
 * cache of exactly this, so it can be dropped and rebuilt (or checked) from the history.
 * History must be in decision order. Returns the entries by session key.
 */
export async function rebuildSessions(
  bundle: CompiledBundle,
  history: AsyncIterable<RecordedDecision> | Iterable<RecordedDecision>,
  now: Date,
): Promise<Map<string, SessionEntry[]>> {
  const out = new Map<string, SessionEntry[]>();
  for await (const item of history) {
    const pair = readPair(item);
    if (!pair) continue;
    const { requested, decided } = pair;
    if (decided.data.decidedBy !== 'policy' || decided.data.decision !== 'allow') continue;
    const entry = sessionEntryFor(bundle, buildInput(requested.data, decided.time), requested.data.actionId);
    if (!entry) continue;
    const key = sessionKey(decided.data.gatewayId, decided.data.agentId);
    // Overflowing states were denied live, so an allowed entry always fits; keep the last good state otherwise.
    out.set(key, appendSessionEntry(bundle, out.get(key) ?? [], entry) ?? out.get(key) ?? []);
  }
  const from = now.getTime() - bundle.maxWindowMs;
  for (const [key, entries] of out) {
    const kept = entries.filter((e) => e.at > from);
    if (kept.length) out.set(key, kept);
    else out.delete(key);
  }
  return out;
}
