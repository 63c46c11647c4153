import type { GraphqlClient } from '../graphql.ts';
import type { Output } from '../output.ts';

export interface TrailAction {
  id: string;
  type: string | null;
  requestedAt: string | null;
  request: { method: string | null; url: string | null };
  decided: { decision: string; reason: string; decidingRule: string | null; decidedBy: string } | null;
  credential: { secretName: string; secretVersion: number } | null;
  completion: { outcome: string; status: number | null; totalMs: number } | null;
  approval: { status: string; approvers: string[]; votes: { voter: string; vote: string }[] } | null;
}

const QUERY = `query Trail($runId: ID!) {
  actions(filter: { runId: $runId }, first: 100) {
    totalCount
    nodes {
      id type requestedAt
      request { method url }
      decided { decision reason decidingRule decidedBy }
      credential { secretName secretVersion }
      completion { outcome status totalMs }
      approval { status approvers votes { voter vote } }
    }
  }
}`;

/**
 * The run's actions from the audit API (read models, projected from the event store), waiting
 * until `expected` actions are projected with their completion.
 */
export async function fetchAuditTrail(gql: GraphqlClient, runId: string, expected: number, timeoutMs = 15_000): Promise<TrailAction[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const data = await gql.request<{ actions: { totalCount: number; nodes: TrailAction[] } }>(QUERY, { runId });
    const nodes = data.actions.nodes;
    if ((nodes.length >= expected && nodes.every((n) => n.completion && n.decided)) || Date.now() > deadline) {
      return [...nodes].sort((a, b) => (a.requestedAt ?? '').localeCompare(b.requestedAt ?? ''));
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

export function printAuditTrail(out: Output, actions: TrailAction[]): void {
  const s = out.style;
  out.table(
    ['TIME', 'ACTION', 'DECISION', 'RULE', 'CREDENTIAL', 'OUTCOME'],
    actions.map((a) => [
      a.requestedAt?.slice(11, 23) ?? '',
      a.type ?? `${a.request.method} ${a.request.url}`,
      a.decided ? (a.decided.decision === 'DENY' ? s.red('deny') : a.decided.decision === 'ALLOW' ? s.green('allow') : s.yellow('approval')) : '-',
      a.decided?.decidingRule ?? '-',
      a.credential ? `${a.credential.secretName} v${a.credential.secretVersion}` : '-',
      a.completion ? `${a.completion.outcome.toLowerCase()}${a.completion.status !== null ? ` ${a.completion.status}` : ''}${a.approval?.votes.length ? ` (approved by ${a.approval.votes.map((v) => v.voter).join(', ')})` : ''}` : '-',
    ]),
  );
}
