// An agent with no API key: reads a repository, then tries to delete it, with Node's global
// fetch. Prints one JSON line per call, and whether any environment variable holds the secret
// whose SHA-256 the test passes (it must not: only the gateway may inject it).
import { createHash } from 'node:crypto';

const repo = 'https://api.github.com/repos/acme/widgets';
const calls = [
  ['read', 'GET'],
  ['delete', 'DELETE'],
];
for (const [call, method] of calls) {
  const res = await fetch(repo, { method, headers: { 'user-agent': 'tf-e2e-agent', accept: 'application/vnd.github+json' } });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  console.log(JSON.stringify({ call, status: res.status, contentType: res.headers.get('content-type'), shouldRetry: res.headers.get('x-should-retry'), body }));
}
const secretHash = process.env.TF_E2E_SECRET_SHA256;
const leaked = Object.values(process.env).some((v) => v && createHash('sha256').update(v).digest('hex') === secretHash);
console.log(JSON.stringify({ call: 'env', node: process.version, secretInEnvironment: leaked }));
