import type { Action } from '@tameflare/contracts';
import { addBodyParams, addQueryParams, finishAction, type RequestContext } from '../context.ts';
import { riskOfMethod } from '../risk.ts';
import { untrustedPathAction } from './rest.ts';

const METHOD = /^[A-Z]{1,20}$/;

export function methodVerb(method: string): string {
  return METHOD.test(method) ? method.toLowerCase() : 'other';
}

/** Generic HTTP for configured domains: `http.get`, `http.post`..., resource `host/path`, query and body fields as parameters. */
export function classifyHttp(ctx: RequestContext, connector: string): Action {
  if (ctx.path.problem) return untrustedPathAction(ctx, connector, 'http');
  addBodyParams(ctx);
  addQueryParams(ctx);
  const path = ctx.path.segments.join('/');
  return finishAction(ctx, { type: `http.${methodVerb(ctx.method)}`, connector, resource: `${ctx.host}/${path}`, risk: riskOfMethod(ctx.method) });
}

/** Outgoing webhooks: `webhook.post`... always at least a write. The path is not recorded: webhook URLs often carry their secret. */
export function classifyWebhook(ctx: RequestContext, connector: string): Action {
  if (ctx.path.problem) return untrustedPathAction(ctx, connector, 'webhook');
  addBodyParams(ctx);
  const risk = riskOfMethod(ctx.method);
  return finishAction(ctx, { type: `webhook.${methodVerb(ctx.method)}`, connector, resource: ctx.host, risk: risk === 'read' ? 'write' : risk });
}
