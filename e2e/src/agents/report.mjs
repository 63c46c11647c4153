// Shared by the SDK agents: one JSON line per call, and whether the agent's environment holds
// the secret whose SHA-256 the test passes (it must not: only the gateway may inject it).
import { createHash } from 'node:crypto';

/** Prints one call's answer as the test reads it. `headers` is a plain object or a Headers. */
export function report(call, status, headers, body) {
  const get = (name) => (headers && typeof headers.get === 'function' ? headers.get(name) : (headers?.[name] ?? null));
  console.log(JSON.stringify({ call, status, contentType: get('content-type'), shouldRetry: get('x-should-retry'), body }));
}

/** Parses a body that may be JSON text, a Buffer or an ArrayBuffer. */
export function parseBody(raw) {
  const text = raw instanceof ArrayBuffer ? Buffer.from(raw).toString('utf8') : Buffer.isBuffer(raw) ? raw.toString('utf8') : raw;
  if (typeof text !== 'string') return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function reportEnvironment() {
  const secretHash = process.env.TF_E2E_SECRET_SHA256;
  const leaked = Object.values(process.env).some((v) => v && createHash('sha256').update(v).digest('hex') === secretHash);
  console.log(JSON.stringify({ call: 'env', node: process.version, secretInEnvironment: leaked }));
}
