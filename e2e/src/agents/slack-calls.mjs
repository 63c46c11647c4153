// The Slack Web API SDK with no token: posts a message, then tries to archive a channel.
import { WebClient } from '@slack/web-api';
import { parseBody, report, reportEnvironment } from './report.mjs';

// WebClient retries any failed HTTP call (ten times over half an hour by default), whatever
// x-should-retry says; a deny is final, so this agent opts out as a production agent should.
const slack = new WebClient(undefined, { retryConfig: { retries: 0 }, timeout: 30_000 });

async function call(name, fn) {
  try {
    const res = await fn();
    report(name, 200, { 'content-type': 'application/json' }, res);
  } catch (err) {
    report(name, err.statusCode ?? null, err.headers ?? {}, parseBody(err.body ?? String(err)));
  }
}

await call('post', () => slack.chat.postMessage({ channel: 'C0E2E', text: 'hello from the e2e agent' }));
await call('archive', () => slack.conversations.archive({ channel: 'C0E2E' }));
reportEnvironment();
