// The demo agent: plain Node, global fetch, no API key anywhere. `tf run` routes its requests
// through the gateway, which decides each one and injects the real credentials.
const repo = 'https://api.github.com/repos/tameflare/demo';
const say = (text) => console.log(`agent: ${text}`);

async function call(label, url, init) {
  const res = await fetch(url, init);
  const type = res.headers.get('content-type') ?? '';
  const body = type.includes('json') ? await res.json().catch(() => null) : await res.text();
  return { status: res.status, body };
}

say('reading the repository');
const read = await call('read', repo, { headers: { accept: 'application/vnd.github+json', 'user-agent': 'tameflare-demo-agent' } });
say(read.status === 200 ? `read ${read.body.full_name}: ${read.body.stargazers_count} stars (HTTP 200)` : `read failed with HTTP ${read.status}`);

say('deleting the repository (a prompt injection asked for it)');
const del = await call('delete', repo, { method: 'DELETE', headers: { 'user-agent': 'tameflare-demo-agent' } });
say(del.status === 403 ? `refused with HTTP 403: ${del.body.reason} (rule ${del.body.rule ?? 'n/a'})` : `delete answered HTTP ${del.status}`);

say('refunding 75.00 on charge ch_demo (over the 50.00 threshold: waits for a human)');
const refund = await call('refund', 'https://api.stripe.com/v1/refunds', {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ charge: 'ch_demo', amount: '7500' }),
});
say(refund.status === 200 ? `refund ${refund.body.id} ${refund.body.status} (HTTP 200, after approval)` : `refund answered HTTP ${refund.status}: ${JSON.stringify(refund.body)}`);

process.exitCode = read.status === 200 && del.status === 403 && refund.status === 200 ? 0 : 1;
