import type { Action, Risk } from '@tameflare/contracts';
import { parse, valueFromASTUntyped, Kind, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode, type SelectionSetNode, type FieldNode } from 'graphql';
import { finishAction, type RequestContext } from '../context.ts';
import { memberValue, type JsonDocument } from '../http/json-scan.ts';
import { addFlattened, note } from '../params.ts';
import { maxRisk, soundsDestructive } from '../risk.ts';

/** Root field names of GitHub's schema, generated from @octokit/graphql-schema. */
export interface GraphqlSchemaIndex {
  mutations: ReadonlySet<string>;
  queries: ReadonlySet<string>;
}

interface Candidate {
  type: string;
  risk: Risk;
  field: FieldNode | null;
  variables: Record<string, unknown>;
  fields: string[];
  kind: 'query' | 'mutation' | 'subscription';
}

const RANK: Record<Risk, number> = { read: 0, write: 1, destructive: 2 };

function rootFields(set: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, out: FieldNode[], seen: Set<string>): void {
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      if (sel.name.value !== '__typename') out.push(sel);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) rootFields(sel.selectionSet, fragments, out, seen);
    else if (sel.kind === Kind.FRAGMENT_SPREAD && !seen.has(sel.name.value)) {
      seen.add(sel.name.value);
      const frag = fragments.get(sel.name.value);
      if (frag) rootFields(frag.selectionSet, fragments, out, seen);
    }
  }
}

function candidatesOf(doc: DocumentNode, operationName: unknown, variables: Record<string, unknown>, index: GraphqlSchemaIndex, notes: string[]): Candidate[] | null {
  const ops: OperationDefinitionNode[] = [];
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of doc.definitions) {
    if (def.kind === Kind.OPERATION_DEFINITION) ops.push(def);
    else if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  }
  let chosen = ops;
  if (typeof operationName === 'string' && operationName !== '') chosen = ops.filter((o) => o.name?.value === operationName);
  else if (ops.length > 1) note(notes, 'graphql_ambiguous_operation');
  if (chosen.length === 0) return null;
  const out: Candidate[] = [];
  for (const op of chosen) {
    const fields: FieldNode[] = [];
    rootFields(op.selectionSet, fragments, fields, new Set());
    const names = fields.map((f) => f.name.value);
    if (op.operation === 'query') {
      if (names.some((n) => !index.queries.has(n) && !n.startsWith('__'))) note(notes, 'graphql_unknown_field');
      out.push({ type: 'github.graphql.query', risk: 'read', field: fields.find((f) => f.name.value === 'repository') ?? null, variables, fields: names, kind: 'query' });
    } else if (op.operation === 'subscription') {
      note(notes, 'graphql_subscription');
      out.push({ type: 'github.graphql.subscription', risk: 'write', field: fields[0] ?? null, variables, fields: names, kind: 'subscription' });
    } else {
      if (fields.length === 0) out.push({ type: 'github.graphql.mutation', risk: 'write', field: null, variables, fields: names, kind: 'mutation' });
      for (const f of fields) {
        const name = f.name.value;
        if (!index.mutations.has(name)) {
          note(notes, 'graphql_unknown_field');
          out.push({ type: 'github.graphql.unknown', risk: 'destructive', field: f, variables, fields: names, kind: 'mutation' });
        } else out.push({ type: `github.graphql.${name}`, risk: soundsDestructive(name) ? 'destructive' : 'write', field: f, variables, fields: names, kind: 'mutation' });
      }
    }
  }
  return out;
}

interface GraphqlRequest {
  query: unknown;
  variables: unknown;
  operationName: unknown;
}

function fromJson(doc: JsonDocument): GraphqlRequest[] | null {
  if (doc.kind === 'object') return [{ query: memberValue(doc, 'query'), variables: memberValue(doc, 'variables'), operationName: memberValue(doc, 'operationName') }];
  if (doc.kind !== 'array') return null;
  const items = JSON.parse(doc.text) as unknown[];
  return items.map((i) => (i !== null && typeof i === 'object' ? (i as GraphqlRequest) : { query: undefined, variables: undefined, operationName: undefined }));
}

function fromQuery(ctx: RequestContext): GraphqlRequest[] {
  const one = (k: string) => {
    const v = ctx.query.values.get(k);
    return Array.isArray(v) ? v[0] : v;
  };
  let variables: unknown;
  try {
    const raw = one('variables');
    variables = raw ? JSON.parse(raw) : undefined;
  } catch {
    note(ctx.notes, 'invalid_json');
  }
  return [{ query: one('query'), variables, operationName: one('operationName') }];
}

/**
 * Classifies a GitHub GraphQL request by its operation: queries read (`github.graphql.query`),
 * each mutation is `github.graphql.<mutationName>` (destructive when its name says delete,
 * remove, archive... and for names GitHub's schema does not know). Several mutations in one
 * document: the riskiest names the action and all are listed in `mutations`. A document that
 * cannot be read is `github.graphql.unknown`, destructive.
 */
export function classifyGraphql(ctx: RequestContext, connector: string, index: GraphqlSchemaIndex): Action | null {
  if (ctx.method !== 'POST' && ctx.method !== 'GET') return null;
  const unknown = (reason: string) => {
    note(ctx.notes, reason);
    return finishAction(ctx, { type: 'github.graphql.unknown', connector, resource: null, risk: 'destructive' });
  };
  if (ctx.body.problem) return unknown(ctx.body.problem);
  let requests: GraphqlRequest[] | null;
  if (ctx.method === 'GET' || ctx.body.kind === 'none') requests = fromQuery(ctx);
  else if (ctx.body.json) requests = fromJson(ctx.body.json);
  else return unknown('graphql_parse_error');
  if (!requests || requests.length === 0) return unknown('graphql_parse_error');
  if (requests.length > 1) note(ctx.notes, 'graphql_batch');
  const candidates: Candidate[] = [];
  for (const r of requests) {
    if (typeof r.query !== 'string' || r.query.length === 0) return unknown('graphql_parse_error');
    let doc: DocumentNode;
    try {
      doc = parse(r.query, { noLocation: true, maxTokens: 20_000 });
    } catch {
      return unknown('graphql_parse_error');
    }
    const variables = r.variables !== null && typeof r.variables === 'object' && !Array.isArray(r.variables) ? (r.variables as Record<string, unknown>) : {};
    const found = candidatesOf(doc, r.operationName, variables, index, ctx.notes);
    if (!found || found.length === 0) return unknown('graphql_parse_error');
    candidates.push(...found);
  }
  let best = candidates[0]!;
  for (const c of candidates) if (RANK[c.risk] > RANK[best.risk]) best = c;
  const mutations = candidates.filter((c) => c.kind === 'mutation').map((c) => c.field?.name.value ?? '');
  if (mutations.length > 1) {
    note(ctx.notes, 'graphql_multiple_fields');
    ctx.sink.add('mutations', mutations.slice(0, 100));
  }
  if (best.kind === 'query') ctx.sink.add('fields', [...new Set(candidates.flatMap((c) => c.fields))].slice(0, 100));
  if (requests.length === 1 && typeof requests[0]!.operationName === 'string') ctx.sink.add('operationName', requests[0]!.operationName);
  let resource: string | null = null;
  if (best.field) {
    const args: Record<string, unknown> = {};
    for (const a of best.field.arguments ?? []) {
      try {
        args[a.name.value] = valueFromASTUntyped(a.value, best.variables);
      } catch {
        note(ctx.notes, 'graphql_parse_error');
      }
    }
    if (best.kind === 'query') {
      if (typeof args.owner === 'string' && typeof args.name === 'string') resource = `${args.owner}/${args.name}`;
    } else {
      for (const [k, v] of Object.entries(args)) addFlattened(ctx.sink, v, k === 'input' ? '' : k, 3);
      const p = ctx.sink.params;
      const nwo = p.repositoryNameWithOwner ?? p['branch.repositoryNameWithOwner'];
      if (typeof nwo === 'string') resource = nwo;
    }
  }
  let risk = best.risk;
  for (const c of candidates) risk = maxRisk(risk, c.risk);
  return finishAction(ctx, { type: best.type, connector, resource, risk, operationId: best.field ? `graphql/${best.kind}/${best.field.name.value}` : `graphql/${best.kind}` });
}
