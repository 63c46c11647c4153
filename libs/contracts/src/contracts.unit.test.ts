import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  ContractErrorCode,
  createEvent,
  eventCatalog,
  isTameFlareError,
  parseEvent,
  streamOf,
  subjectOf,
  uuidv7,
  validateEvent,
} from './index.ts';

const run = { gatewayId: 'default', agentId: 'my-agent', runId: uuidv7(), actionId: uuidv7() };

function requested() {
  return createEvent(
    'ActionRequested',
    {
      ...run,
      agentName: 'my-agent',
      ingressId: 'ingress-1',
      connectionId: 'c1',
      request: {
        method: 'DELETE',
        scheme: 'https',
        host: 'api.github.com',
        port: 443,
        path: '/repos/octo/hello',
        query: '',
        contentType: null,
        contentLength: 0,
        bodyDigest: null,
        bodyTruncated: false,
        userAgent: 'octokit',
      },
      action: { type: 'github.repo.delete', connector: 'github', resource: 'octo/hello', params: { owner: 'octo', repo: 'hello' }, risk: 'destructive', notes: [] },
      classifierVersion: '1',
      requestDigest: 'a'.repeat(64),
    },
    { correlationId: run.actionId, source: 'ingress@test' },
  );
}

describe('event envelope', () => {
  it('builds a valid event with subject and stream from the catalog', () => {
    const e = requested();
    expect(e.version).toBe(1);
    expect(subjectOf(e)).toBe('tf.evt.action.requested.default');
    expect(streamOf(e)).toBe(`action-${run.actionId}`);
    expect(parseEvent(JSON.stringify(e))).toEqual(e);
  });

  it('refuses data that breaks the schema and names the path', () => {
    const e = requested();
    const bad = { ...e, data: { ...e.data, action: { ...e.data.action, risk: 'harmless' } } };
    expect(() => validateEvent(bad)).toThrowError(/data\/action\/risk/);
    try {
      validateEvent(bad);
    } catch (err) {
      expect(isTameFlareError(err, ContractErrorCode.Schema)).toBe(true);
    }
  });

  it('refuses unknown fields (schemas are closed)', () => {
    const e = requested();
    expect(() => validateEvent({ ...e, data: { ...e.data, secret: 'x' } })).toThrowError(/violates its schema/);
  });

  it('distinguishes an unknown type from an unknown version', () => {
    const e = requested();
    expect(() => validateEvent({ ...e, type: 'ActionTeleported' })).toThrow(expect.objectContaining({ code: ContractErrorCode.UnknownType }));
    expect(() => validateEvent({ ...e, version: 9 })).toThrow(expect.objectContaining({ code: ContractErrorCode.UnknownVersion }));
    expect(() => parseEvent('{not json')).toThrow(expect.objectContaining({ code: ContractErrorCode.Malformed }));
  });

  it('puts every catalog subject under tf.evt. and marks only action events as hot path', () => {
    for (const [type, entry] of Object.entries(eventCatalog)) {
      expect(entry.hotPath, type).toBe(entry.family === 'action');
    }
  });
});

describe('canonical JSON and ids', () => {
  it('sorts keys at every depth and drops undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } })).toBe('{"a":{"d":[1,{"x":1,"y":2}]},"b":1}');
  });
  it('rejects non-finite numbers', () => {
    expect(() => canonicalJson({ a: Number.NaN })).toThrow(TypeError);
  });
  it('makes UUIDv7 ids that sort by time', () => {
    const a = uuidv7(1_700_000_000_000);
    const b = uuidv7(1_700_000_000_001);
    expect(a < b).toBe(true);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
  it('keeps UUIDv7 ids strictly increasing within one millisecond and across a clock step back', () => {
    const t = 1_800_000_000_000;
    const ids = Array.from({ length: 5000 }, (_, i) => uuidv7(i === 4000 ? t - 5 : t));
    for (let i = 1; i < ids.length; i++) expect(ids[i]! > ids[i - 1]!, `${ids[i - 1]} < ${ids[i]}`).toBe(true);
  });
});
