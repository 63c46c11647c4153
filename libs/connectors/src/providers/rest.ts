import type { Action, Risk } from '@tameflare/contracts';
import { addBodyParams, addQueryParams, finishAction, toNumber, type RequestContext } from '../context.ts';
import { note, type ParamSink } from '../params.ts';
import { riskOfMethod } from '../risk.ts';
import type { RouteTrie } from '../router/route-trie.ts';

/** One operation of a route table. */
export interface RestRoute {
  type: string;
  operationId: string;
  risk: Risk;
  /** Refines the result from the parameters (e.g. `github.ref.delete` on `heads/x` → `github.branch.delete`), and may add derived parameters. */
  refine?: (params: Record<string, unknown>, sink: ParamSink) => { type?: string; risk?: Risk } | undefined;
}

export interface RestOptions {
  connector: string;
  provider: string;
  trie: RouteTrie<RestRoute>;
  /** Path segments to remove before matching (`['api', 'v3']` on GitHub Enterprise Server). */
  basePath?: readonly string[];
  /** Which form and query fields hold numbers (Stripe amounts). */
  numeric?: (name: string) => boolean;
  /** Which path parameters hold numbers (GitHub's `pull_number`, `run_id`). */
  numericPath?: (name: string) => boolean;
  /** The resource the request touches, from its parameters. */
  resourceOf: (params: Record<string, unknown>, route: RestRoute | null) => string | null;
}

/** The action for a request whose path cannot be trusted: the riskiest plausible one. */
export function untrustedPathAction(ctx: RequestContext, connector: string, provider: string): Action {
  note(ctx.notes, ctx.path.problem ?? 'invalid_path');
  addQueryParams(ctx);
  return finishAction(ctx, { type: `${provider}.unknown`, connector, resource: null, risk: 'destructive' });
}

export function stripBase(segments: readonly string[], base: readonly string[] | undefined): readonly string[] | null {
  if (!base || base.length === 0) return segments;
  if (segments.length < base.length) return null;
  for (let i = 0; i < base.length; i++) if (segments[i] !== base[i]) return null;
  return segments.slice(base.length);
}

/** Classifies a request against a compiled route table; unmatched requests become `<provider>.unknown`, risk from the method. */
export function classifyRest(ctx: RequestContext, o: RestOptions): Action {
  if (ctx.path.problem) return untrustedPathAction(ctx, o.connector, o.provider);
  const segs = stripBase(ctx.path.segments, o.basePath);
  const m = segs ? (o.trie.match(ctx.method, segs) ?? (ctx.method === 'HEAD' ? o.trie.match('GET', segs) : null)) : null;
  if (m) {
    for (let i = 0; i < m.names.length; i++) {
      const name = m.names[i]!;
      ctx.sink.add(name, o.numericPath?.(name) ? toNumber(m.values[i]!) : m.values[i]);
    }
  }
  addBodyParams(ctx, o.numeric);
  addQueryParams(ctx, o.numeric);
  const params = ctx.sink.params;
  if (!m) {
    note(ctx.notes, 'no_route');
    return finishAction(ctx, { type: `${o.provider}.unknown`, connector: o.connector, resource: o.resourceOf(params, null), risk: riskOfMethod(ctx.method) });
  }
  const route = m.route;
  const refined = route.refine?.(params, ctx.sink);
  return finishAction(ctx, {
    type: refined?.type ?? route.type,
    connector: o.connector,
    resource: o.resourceOf(params, route),
    risk: refined?.risk ?? route.risk,
    operationId: route.operationId,
  });
}
