import type { EventEnvelope, TameFlareEvent } from '@tameflare/contracts';
import type { Bus, Listener } from '@tameflare/messaging';
import { formatMs, type Output } from '../output.ts';

/** One action of the run, as its events tell it. */
interface ActionTrace {
  actionId: string;
  type: string | null;
  decision: string | null;
  decidedBy: string | null;
  reason: string | null;
  outcome: string | null;
  status: number | null;
  totalMs: number | null;
  forwarded: boolean;
}

/** What `tf run` prints at the end, and `--json` emits. */
export interface RunSummary {
  runId: string;
  agentId: string;
  gatewayId: string;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
  actions: {
    total: number;
    allowed: number;
    denied: number;
    /** Held for a human approval, then granted, denied or expired. */
    awaitingApproval: { total: number; granted: number; denied: number; expired: number };
    /** Cut by the kill switch after it had started. */
    killed: number;
    /** The gateway could not decide (503). */
    unavailable: number;
  };
  slowest: { actionType: string | null; totalMs: number; status: number | null } | null;
  denials: { actionType: string | null; reason: string | null; decidedBy: string | null }[];
}

/**
 * Watches the run's action events while the agent runs (a core NATS subscription to
 * `tf.evt.action.*.<gateway>`, filtered by run id) to count what was allowed, denied and held,
 * and which action was slowest.
 */
export async function watchRunActions(bus: Bus, gatewayId: string, runId: string): Promise<{ settle(timeoutMs: number): Promise<void>; summary(base: Omit<RunSummary, 'actions' | 'slowest' | 'denials'>): RunSummary; stop(): Promise<void> }> {
  const traces = new Map<string, ActionTrace>();
  let onChange: (() => void) | undefined;
  const trace = (actionId: string) => {
    let t = traces.get(actionId);
    if (!t) {
      t = { actionId, type: null, decision: null, decidedBy: null, reason: null, outcome: null, status: null, totalMs: null, forwarded: false };
      traces.set(actionId, t);
    }
    return t;
  };
  const listener: Listener = await bus.subscribe(`tf.evt.action.*.${gatewayId}`, (e: TameFlareEvent) => {
    const data = e?.data as { runId?: string; actionId?: string } | undefined;
    if (!data || data.runId !== runId || !data.actionId) return;
    const t = trace(data.actionId);
    if (e.type === 'ActionRequested') t.type = (e as EventEnvelope<'ActionRequested'>).data.action.type;
    else if (e.type === 'ActionDecided') {
      const d = (e as EventEnvelope<'ActionDecided'>).data;
      // A held request is decided twice (require_approval, then the approval's outcome): keep the first.
      if (t.decision === null) {
        t.decision = d.decision;
        t.decidedBy = d.decidedBy;
        t.reason = d.reason;
      }
    } else if (e.type === 'ActionCompleted') {
      const d = (e as EventEnvelope<'ActionCompleted'>).data;
      t.outcome = d.outcome;
      t.status = d.status;
      t.totalMs = d.totalMs;
      t.forwarded = d.forwarded;
    }
    onChange?.();
  });
  return {
    /** Waits (bounded) until every requested action has completed: completions follow the response. */
    async settle(timeoutMs) {
      const done = () => [...traces.values()].every((t) => t.outcome !== null);
      if (done()) return;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        onChange = () => {
          if (done()) {
            clearTimeout(timer);
            resolve();
          }
        };
      });
      onChange = undefined;
    },
    summary(base) {
      const all = [...traces.values()];
      const held = all.filter((t) => t.decision === 'require_approval');
      const completed = all.filter((t) => t.totalMs !== null);
      const slowest = completed.sort((a, b) => b.totalMs! - a.totalMs!)[0];
      return {
        ...base,
        actions: {
          total: all.length,
          allowed: all.filter((t) => t.decision === 'allow').length,
          denied: all.filter((t) => t.decision === 'deny').length,
          awaitingApproval: {
            total: held.length,
            granted: held.filter((t) => t.forwarded).length,
            denied: held.filter((t) => t.outcome === 'approval_denied').length,
            expired: held.filter((t) => t.outcome === 'approval_expired').length,
          },
          killed: all.filter((t) => t.outcome === 'killed').length,
          unavailable: all.filter((t) => t.outcome === 'unavailable').length,
        },
        slowest: slowest ? { actionType: slowest.type, totalMs: Math.round(slowest.totalMs! * 100) / 100, status: slowest.status } : null,
        denials: all.filter((t) => t.decision === 'deny').slice(0, 5).map((t) => ({ actionType: t.type, reason: t.reason, decidedBy: t.decidedBy })),
      };
    },
    stop: () => listener.stop(),
  };
}

/** The one-screen summary on stderr (stdout stays the agent's). */
export function printSummary(out: Output, s: RunSummary, agentName: string): void {
  const st = out.style;
  const how = s.signal ? `was stopped by ${s.signal}` : `exited with code ${s.exitCode}`;
  const a = s.actions;
  const parts = [`${a.allowed} allowed`, `${a.denied} denied`];
  if (a.awaitingApproval.total) {
    const outcomes = [
      a.awaitingApproval.granted && `${a.awaitingApproval.granted} granted`,
      a.awaitingApproval.denied && `${a.awaitingApproval.denied} denied`,
      a.awaitingApproval.expired && `${a.awaitingApproval.expired} expired`,
    ].filter(Boolean);
    parts.push(`${a.awaitingApproval.total} awaiting approval${outcomes.length ? ` (${outcomes.join(', ')})` : ''}`);
  }
  if (a.killed) parts.push(`${a.killed} cut by the kill switch`);
  if (a.unavailable) parts.push(`${a.unavailable} refused: gateway unavailable`);
  out.note(st.bold(`tf: ${agentName} ${how} after ${formatMs(s.durationMs)}`) + st.dim(` (run ${s.runId})`));
  out.note(`    ${a.total} action${a.total === 1 ? '' : 's'}: ${parts.join(', ')}`);
  if (s.slowest) out.note(`    slowest: ${s.slowest.actionType ?? 'unclassified'} ${formatMs(s.slowest.totalMs)}${s.slowest.status !== null ? ` -> ${s.slowest.status}` : ''}`);
  for (const d of s.denials) out.note(st.red(`    denied: ${d.actionType ?? 'request'}${d.reason ? `: ${d.reason}` : ''}`));
}
