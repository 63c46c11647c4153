import type { Action, Risk } from '@tameflare/contracts';
import type { RequestContext } from '../context.ts';
import { riskOfMethod } from '../risk.ts';
import { compileRoutes, type RouteTemplate, type RouteTrie } from '../router/route-trie.ts';
import { classifyRest, type RestRoute } from './rest.ts';
import { snakeCase } from './sdk-table.ts';

/** A route of a user-defined connector. */
export interface CustomRoute {
  method: string;
  /** `/v1/invoices/{invoice_id}/void`, relative to the connector's base path. */
  path: string;
  /** Full action type, starting with the connector's provider: `billing.invoice.void`. */
  action: string;
  risk?: Risk;
  /** Body and query fields to record; path parameters are always recorded. Default: every top-level field. */
  params?: string[];
  /** Resource template from parameters: `{owner}/{repo}` or `invoice:{invoice_id}`. */
  resource?: string;
  /** Path parameters whose value may contain slashes. */
  multiSegment?: string[];
}

interface CustomRestRoute extends RestRoute {
  keep: ReadonlySet<string> | null;
  pathNames: readonly string[];
  resource: string | null;
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** Routes of an OpenAPI 3 document: `x-tameflare-action` and `x-tameflare-risk` on an operation override the derived name and the method's risk. */
export function routesFromOpenapi(doc: Record<string, any>, provider: string): { routes: CustomRoute[]; basePath: string } {
  let basePath = '';
  const server = doc.servers?.[0]?.url;
  if (typeof server === 'string') {
    const path = server.replace(/^[a-z]+:\/\/[^/]*/i, '').replace(/\{[^}]*\}/g, '').replace(/\/+$/, '');
    basePath = path;
  }
  const routes: CustomRoute[] = [];
  for (const [path, item] of Object.entries<Record<string, any>>(doc.paths ?? {})) {
    for (const m of HTTP_METHODS) {
      const op = item?.[m];
      if (!op || typeof op !== 'object') continue;
      const multi = [...(item.parameters ?? []), ...(op.parameters ?? [])].filter((p: any) => p?.in === 'path' && p['x-multi-segment']).map((p: any) => String(p.name));
      const derived = typeof op.operationId === 'string' ? snakeCase(op.operationId).replace(/[^a-z0-9_]+/g, '_') : `${m}_${path.split('/').filter((s) => s && !s.startsWith('{')).join('_')}`;
      routes.push({
        method: m.toUpperCase(),
        path,
        action: typeof op['x-tameflare-action'] === 'string' ? op['x-tameflare-action'] : `${provider}.${derived.replace(/^_+|_+$/g, '') || 'root'}`,
        ...(typeof op['x-tameflare-risk'] === 'string' ? { risk: op['x-tameflare-risk'] as Risk } : {}),
        ...(multi.length ? { multiSegment: multi } : {}),
      });
    }
  }
  return { routes, basePath };
}

export interface CustomConnector {
  trie: RouteTrie<RestRoute>;
  classify(ctx: RequestContext, connector: string): Action;
}

function fillTemplate(template: string, params: Record<string, unknown>): string | null {
  let missing = false;
  const out = template.replace(/\{([^{}]+)\}/g, (_, name: string) => {
    const v = params[name];
    if (v === undefined || v === null || typeof v === 'object') {
      missing = true;
      return '';
    }
    return String(v);
  });
  return missing ? null : out;
}

/** A connector for an internal API, from routes and/or an OpenAPI document in its config. */
export function createCustom(provider: string, routes: readonly CustomRoute[], basePath: string): CustomConnector {
  const templates: RouteTemplate<RestRoute>[] = routes.map((r) => {
    const route: CustomRestRoute = {
      type: r.action,
      operationId: `${r.method.toUpperCase()} ${r.path}`,
      risk: r.risk ?? riskOfMethod(r.method.toUpperCase()),
      keep: r.params ? new Set(r.params) : null,
      pathNames: [...r.path.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]!),
      resource: r.resource ?? null,
    };
    return { method: r.method, path: r.path, ...(r.multiSegment ? { multiSegment: r.multiSegment } : {}), route };
  });
  const trie = compileRoutes(templates);
  const base = basePath.split('/').filter(Boolean);
  return {
    trie,
    classify(ctx, connector) {
      let matched: CustomRestRoute | null = null;
      const action = classifyRest(ctx, {
        connector,
        provider,
        trie,
        basePath: base,
        resourceOf: (params, route) => {
          matched = route as CustomRestRoute | null;
          return matched?.resource ? fillTemplate(matched.resource, params) : null;
        },
      });
      const keep = (matched as CustomRestRoute | null)?.keep;
      if (keep) {
        const pathNames = new Set((matched as unknown as CustomRestRoute).pathNames);
        for (const k of Object.keys(action.params)) if (!keep.has(k) && !pathNames.has(k)) delete action.params[k];
      }
      return action;
    },
  };
}
