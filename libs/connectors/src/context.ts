import type { Action, Risk } from '@tameflare/contracts';
import { readBody, headerValue, type BodyView } from './http/body.ts';
import { scalarMembers } from './http/json-scan.ts';
import { splitPath, type SplitPath } from './http/path.ts';
import { parsePairs, type ParsedPairs } from './http/query.ts';
import { createParamSink, note, type ParamSink } from './params.ts';
import { maxRisk } from './risk.ts';
import type { ClassifyInput } from './types.ts';

/** A request being classified: parsed once, shared by the connector code. */
export interface RequestContext {
  input: ClassifyInput;
  method: string;
  host: string;
  path: SplitPath;
  query: ParsedPairs;
  body: BodyView;
  notes: string[];
  sink: ParamSink;
}

const EMPTY_QUERY: ParsedPairs = { values: new Map(), duplicates: false };

export function createContext(input: ClassifyInput, host: string, bodyParseLimit: number): RequestContext {
  const method = String(input.method ?? '').toUpperCase();
  let path = typeof input.path === 'string' ? input.path : '/';
  let query = typeof input.query === 'string' ? input.query : '';
  const q = path.indexOf('?');
  if (q >= 0) {
    query = query || path.slice(q + 1);
    path = path.slice(0, q);
  }
  if (query.startsWith('?')) query = query.slice(1);
  const notes: string[] = [];
  const parsedQuery = query ? parsePairs(query) : EMPTY_QUERY;
  if (parsedQuery.duplicates) note(notes, 'duplicate_query_key');
  const body = readBody(input.body, input.bodyTruncated === true, bodyParseLimit, headerValue(input.headers, 'content-type'));
  if (body.problem) note(notes, body.problem);
  if (body.json?.duplicates) note(notes, 'duplicate_json_key');
  if (body.form?.duplicates) note(notes, 'duplicate_body_key');
  return { input, method, host, path: splitPath(path), query: parsedQuery, body, notes, sink: createParamSink(notes) };
}

/** Notes that mean the classifier could not see the whole request as the upstream will: never a read. */
const CONSERVATIVE = new Set([
  'body_over_limit',
  'invalid_json',
  'duplicate_query_key',
  'duplicate_json_key',
  'duplicate_body_key',
  'param_conflict',
  'encoded_traversal',
  'path_traversal',
  'invalid_path_encoding',
  'graphql_parse_error',
]);

/** Builds the action, raising the risk to at least `write` when a conservative note was made. */
export function finishAction(ctx: RequestContext, fields: { type: string; connector: string; resource: string | null; risk: Risk; operationId?: string }): Action {
  let risk = fields.risk;
  for (const n of ctx.notes) if (CONSERVATIVE.has(n)) risk = maxRisk(risk, 'write');
  const action: Action = { type: fields.type, connector: fields.connector, resource: fields.resource === null ? null : fields.resource.slice(0, 500), params: ctx.sink.params, risk, notes: ctx.notes };
  if (fields.operationId !== undefined) action.operationId = fields.operationId.slice(0, 200);
  return action;
}

/** Adds query parameters (repeated keys as lists) and the body's top-level fields. */
export function addQueryParams(ctx: RequestContext, numeric?: (name: string) => boolean): void {
  for (const [k, v] of ctx.query.values) ctx.sink.add(formName(k), numeric && typeof v === 'string' && numeric(k) ? toNumber(v) : v);
}

/** `metadata[order_id]` → `metadata.order_id`, `expand[]` → `expand`, `items[0][price]` → `items.0.price`. */
export function formName(key: string): string {
  let open = key.indexOf('[');
  if (open < 0) return key;
  // Parts joined at the end: a flat string hashes once, where `+=` would leave a rope to flatten at every lookup.
  const parts = [key.slice(0, open)];
  while (open >= 0) {
    const close = key.indexOf(']', open);
    if (close < 0) {
      parts.push(key.slice(open + 1));
      break;
    }
    if (close === open + 1 && close === key.length - 1) break;
    parts.push(key.slice(open + 1, close));
    open = key.indexOf('[', close);
  }
  return parts.join('.');
}

const NUMERIC = /^-?\d{1,15}(\.\d{1,6})?$/;

export function toNumber(v: string): string | number {
  return NUMERIC.test(v) ? Number(v) : v;
}

/** Adds the body's fields: top-level JSON scalars (and short scalar lists), or every form field with `a[b]` named `a.b`. */
export function addBodyParams(ctx: RequestContext, numeric?: (name: string) => boolean): void {
  const { json, form } = ctx.body;
  if (json && json.kind === 'object') {
    for (const [k, v] of scalarMembers(json)) ctx.sink.add(k, v);
  } else if (form) {
    for (const [k, v] of form.values) {
      const name = formName(k);
      ctx.sink.add(name, numeric && typeof v === 'string' && numeric(name) ? toNumber(v) : v);
    }
  }
}
