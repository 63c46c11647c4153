/**
 * "A real credential never appears in an agent-visible response, a log line, an event, a NATS
 * message in clear, or a GraphQL answer": real traffic through the whole stack (`tf run` with
 * curl), including an upstream that reflects the injected key back, then a search of every
 * column of the database (event store, read models, vault, recorder), the JetStream store and
 * every log file in the stack's state directory, every NATS message seen by a `>` subscriber
 * during the run, the audit API's answers and the agent's own output, for the secret in each
 * form it could leak in (value, base64, base64url, hex, percent-encoded).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leakNeedles, searchBlobs, searchFiles, searchPostgres, startNatsCapture, type NatsCapture } from '@tameflare/vault-crypto/testing';
import { auditedActions, runSummaryOf, startTfStack, type TfStack } from './harness/index.ts';

const POLICY = `
version: 1
name: leak-test
rules:
  - id: deny-repo-delete
    effect: deny
    match: { actions: [github.repo.delete] }
    reason: Repository deletion is not allowed through agents
  - id: allow-github
    effect: allow
    match: { actions: ["github.**"] }
`;

// Three calls: an allowed read (credential injected), a denied delete, and a read of an
// upstream endpoint that reflects the Authorization header in a response header and the body.
const AGENT = `
set -eu
for target in GET:https://api.github.com/repos/acme/widgets DELETE:https://api.github.com/repos/acme/widgets GET:https://api.github.com/meta/echo; do
  curl -sS -i -X "\${target%%:*}" -H 'user-agent: leak-agent' "\${target#*:}"
  echo
done
`;

let stack: TfStack;
let capture: NatsCapture;

beforeAll(async () => {
  stack = await startTfStack({ providers: ['github'], policy: POLICY });
  capture = await startNatsCapture(stack.bus.nc as never);
}, 120_000);

afterAll(async () => {
  await capture?.stop().catch(() => undefined);
  await stack?.stop();
});

describe('no credential leaks from the whole stack', () => {
  it('keeps the GitHub token out of the agent, the database, JetStream, NATS, the logs and GraphQL', async () => {
    const secret = stack.secret('github');
    const needles = leakNeedles(secret);

    const r = await stack.tf(['run', '--json', '--', 'leak-agent', 'sh', '-c', AGENT]);
    expect(r.code, r.stderr).toBe(0);
    const summary = runSummaryOf(r);
    expect(summary.actions).toMatchObject({ total: 3, allowed: 2, denied: 1 });

    // The upstream really received the key (so the search below is not looking for something that never existed)...
    const seen = stack.upstream('github').requests;
    const echo = seen.find((q) => q.url === '/meta/echo');
    expect(echo?.authorized).toBe(true);
    expect(searchBlobs([{ where: 'upstream', data: JSON.stringify(seen) }], needles).length).toBeGreaterThan(0);
    // ...and reflected it, but the agent got it redacted, in the header and in the body.
    expect(r.stdout).toContain('[REDACTED]');
    expect(r.stdout).toMatch(/x-echo-authorization: Bearer \[REDACTED\]/i);

    // Wait until the run is fully projected, so the read models hold everything it produced.
    const audited = await auditedActions(stack, summary.runId, 3);
    expect(audited.every((a) => a.completion)).toBe(true);
    const gql = await stack.graphql<unknown>(
      `query($runId: ID!) { actions(filter: { runId: $runId }, first: 10) { nodes { type decided { decision reason } credential { secretName } completion { outcome status } } } }`,
      { runId: summary.runId },
    );

    const messages = await capture.stop();
    expect(messages.length).toBeGreaterThan(20);
    const db = new pg.Client({ connectionString: stack.db.url });
    await db.connect();
    let pgResult;
    try {
      pgResult = await searchPostgres(db, needles);
    } finally {
      await db.end();
    }
    expect(pgResult.tables).toBeGreaterThan(10);
    expect(pgResult.rows).toBeGreaterThan(10);
    const files = searchFiles(stack.stateDir, needles);
    expect(files.files).toBeGreaterThan(5);

    const hits = [
      ...searchBlobs([{ where: 'agent stdout', data: r.stdout }, { where: 'agent stderr', data: r.stderr }, { where: 'graphql', data: JSON.stringify(gql) }], needles),
      ...capture.search(needles),
      ...pgResult.hits,
      ...files.hits,
    ];
    expect(hits).toEqual([]);
  }, 120_000);
});
