import { Value } from '@sinclair/typebox/value';
import { ActionSchema } from '@tameflare/contracts';
import { describe, expect, it } from 'vitest';
import { generatedTables } from './generated-tables.ts';
import { createClassifier } from './index.ts';

/** Fills a path template with plausible values so the request routes back to its own operation. */
const fillPath = (template: string) => template.replace(/\{[^}]+\}/g, 'x1');

describe('every generated route classifies back to itself with a valid action', () => {
  const t = generatedTables();
  const classifier = createClassifier({ connectors: [{ id: 'github', kind: 'github' }, { id: 'stripe', kind: 'stripe' }, { id: 'openai', kind: 'openai' }, { id: 'anthropic', kind: 'anthropic' }, { id: 'slack', kind: 'slack' }] });
  const tables: [string, string, [string, string, string][]][] = [
    ['GitHub REST', 'api.github.com', t.githubRest.operations.map(([m, p, id]) => [m, p, id])],
    ['Stripe', 'api.stripe.com', t.stripe.operations],
    ['OpenAI', 'api.openai.com', t.openai.operations],
    ['Anthropic', 'api.anthropic.com', t.anthropic.operations],
  ];

  it.each(tables)('%s', (_name, host, ops) => {
    expect(ops.length).toBeGreaterThan(100);
    let matched = 0;
    for (const [method, path, id] of ops) {
      const action = classifier.classify({ host, method, path: fillPath(path) });
      expect(Value.Check(ActionSchema, action), `${method} ${path}: ${JSON.stringify(action)}`).toBe(true);
      expect(action.notes, `${method} ${path}`).not.toContain("no_route");
      if (action.operationId === id) matched++;
    }
    // A few templates share a shape with another (`/x/{id}` vs `/x/{name}`); the first one defined wins.
    expect(matched / ops.length).toBeGreaterThan(0.97);
  });

  it('Slack: every Web API method of the SDK', () => {
    expect(t.slack.methods.length).toBeGreaterThan(200);
    for (const m of t.slack.methods) {
      const action = classifier.classify({ host: 'slack.com', method: 'POST', path: `/api/${m}` });
      expect(Value.Check(ActionSchema, action)).toBe(true);
      expect(action).toMatchObject({ type: `slack.${m}`, operationId: m, notes: [] });
    }
  });

  it('GitHub GraphQL: every mutation of the schema', () => {
    expect(t.githubGraphql.mutations.length).toBeGreaterThan(200);
    for (const m of t.githubGraphql.mutations) {
      const action = classifier.classify({ host: 'api.github.com', method: 'POST', path: '/graphql', headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ query: `mutation { ${m}(input: {}) { clientMutationId } }` })) });
      expect(action.type).toBe(`github.graphql.${m}`);
      expect(action.risk).not.toBe('read');
      expect(Value.Check(ActionSchema, action)).toBe(true);
    }
  });
});
