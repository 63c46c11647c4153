import { scanJson, type JsonDocument } from './json-scan.ts';
import { parsePairs, type ParsedPairs } from './query.ts';

/** What the classifier could read of a request body. */
export interface BodyView {
  kind: 'none' | 'json' | 'form' | 'other';
  json: JsonDocument | null;
  form: ParsedPairs | null;
  /** Why the body could not be used: over the parse limit, or not the JSON it claims to be. */
  problem: 'body_over_limit' | 'invalid_json' | null;
}

const NONE: BodyView = Object.freeze({ kind: 'none', json: null, form: null, problem: null }) as BodyView;

export function headerValue(headers: Readonly<Record<string, string | string[] | undefined>> | undefined, name: string): string | undefined {
  const v = headers?.[name];
  return Array.isArray(v) ? v[0] : v;
}

function mediaType(contentType: string | undefined): string {
  if (!contentType) return '';
  const semi = contentType.indexOf(';');
  return (semi < 0 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

/**
 * Reads the body the ingress captured. A truncated body, or one longer than the parse limit,
 * is never parsed: its fields could be overridden by bytes the classifier did not see.
 */
export function readBody(body: Uint8Array | null | undefined, truncated: boolean, limit: number, contentType: string | undefined): BodyView {
  if (!truncated && (!body || body.length === 0)) return NONE;
  if (truncated || body!.length > limit) return { kind: 'other', json: null, form: null, problem: 'body_over_limit' };
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body!.buffer, body!.byteOffset, body!.length);
  const type = mediaType(contentType);
  if (type === 'application/x-www-form-urlencoded') return { kind: 'form', json: null, form: parsePairs(buf.toString('latin1')), problem: null };
  const first = buf[0];
  const looksJson = type === '' && (first === 0x7b || first === 0x5b);
  if (type === 'application/json' || type.endsWith('+json') || looksJson) {
    const json = scanJson(buf.toString('utf8'));
    return json ? { kind: 'json', json, form: null, problem: null } : { kind: 'json', json: null, form: null, problem: 'invalid_json' };
  }
  return { kind: 'other', json: null, form: null, problem: null };
}
