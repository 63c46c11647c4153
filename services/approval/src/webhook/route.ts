import type { FastifyInstance } from 'fastify';
import { handleSlackCallback, type CallbackDeps } from './callback.ts';

/** Where the Slack interactivity request URL points, on the service's HTTP port. */
export const SLACK_CALLBACK_PATH = '/webhooks/slack/actions';

/**
 * Mounts the Slack callback. The form body is kept as the raw string (Slack signs the exact
 * bytes), in an encapsulated context so the parser applies to this route only.
 */
export async function registerSlackCallback(app: FastifyInstance, deps: CallbackDeps, path = SLACK_CALLBACK_PATH): Promise<void> {
  await app.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => done(null, body));
    scope.post(path, async (req, reply) => {
      const header = (name: string) => {
        const v = req.headers[name];
        return Array.isArray(v) ? v[0] : v;
      };
      const res = await handleSlackCallback(deps, {
        rawBody: typeof req.body === 'string' ? req.body : '',
        timestamp: header('x-slack-request-timestamp'),
        signature: header('x-slack-signature'),
      });
      return reply.code(res.statusCode).send(res.body);
    });
  });
}
