import type { Action } from '@tameflare/contracts';
import { addBodyParams, addQueryParams, finishAction, type RequestContext } from '../context.ts';
import type { GeneratedTables } from '../generated-tables.ts';
import { note } from '../params.ts';
import { maxRisk, riskOfName } from '../risk.ts';
import { untrustedPathAction } from './rest.ts';

const METHOD_NAME = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*){1,5}$/;

export interface SlackConnector {
  methods: ReadonlySet<string>;
  classify(ctx: RequestContext, connector: string): Action;
}

function slackResource(p: Record<string, unknown>): string | null {
  for (const k of ['channel', 'channel_id', 'user', 'user_id', 'team_id']) if (typeof p[k] === 'string') return p[k] as string;
  return null;
}

/**
 * Slack Web API: `POST /api/<method>` becomes `slack.<method>` (`slack.chat.postMessage`,
 * `slack.conversations.archive`), with the form or JSON body fields as parameters. Incoming
 * webhooks (`hooks.slack.com/services/...`) are `slack.webhook.post`; their path is the secret, so it is never recorded.
 */
export function createSlack(tables: GeneratedTables): SlackConnector {
  const methods = new Set(tables.slack.methods);
  return {
    methods,
    classify(ctx, connector) {
      if (ctx.path.problem) return untrustedPathAction(ctx, connector, 'slack');
      const segs = ctx.path.segments;
      if (segs[0] === 'services' && ctx.host.startsWith('hooks.')) {
        addBodyParams(ctx);
        return finishAction(ctx, { type: 'slack.webhook.post', connector, resource: null, risk: 'write' });
      }
      if (ctx.host.startsWith('files.') && ctx.method === 'POST') {
        // The upload URL files.getUploadURLExternal hands out; the file itself is the body.
        return finishAction(ctx, { type: 'slack.file.upload', connector, resource: null, risk: 'write' });
      }
      if (segs.length !== 2 || segs[0] !== 'api') {
        note(ctx.notes, 'no_route');
        return finishAction(ctx, { type: 'slack.unknown', connector, resource: null, risk: ctx.method === 'GET' ? 'read' : 'write' });
      }
      const method = segs[1]!;
      if (!METHOD_NAME.test(method) || method.length > 120) {
        note(ctx.notes, 'invalid_method');
        return finishAction(ctx, { type: 'slack.unknown', connector, resource: null, risk: 'destructive' });
      }
      addBodyParams(ctx);
      addQueryParams(ctx);
      const last = method.slice(method.lastIndexOf('.') + 1);
      let risk = last === 'test' ? 'read' : riskOfName(last);
      if (!methods.has(method)) {
        note(ctx.notes, 'unknown_method');
        risk = maxRisk(risk, 'write');
      }
      return finishAction(ctx, { type: `slack.${method}`, connector, resource: slackResource(ctx.sink.params), risk, operationId: method });
    },
  };
}
