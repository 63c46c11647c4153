import { describe, expect, it } from 'vitest';
import { headers } from '@nats-io/transport-node';
import { TameFlareError } from '@tameflare/contracts';
import { trace } from '@opentelemetry/api';
import { extractTrace, formatTraceparent } from './trace.ts';
import { encodeErrorReply, ErrorHeaders } from './wire.ts';
import { isMessagingError, isRemoteError, MessagingErrorCode, RemoteError, toMessagingError } from './errors.ts';

describe('error reply encoding', () => {
  it('keeps code, message and details of a TameFlareError, on one header line', () => {
    const r = encodeErrorReply(new TameFlareError('TF_ERR_X', 'line one\r\nline two', { details: { a: 1 } }));
    expect(r.headers.get(ErrorHeaders.code)).toBe('TF_ERR_X');
    expect(r.headers.get(ErrorHeaders.message)).toBe('line one line two');
    expect(JSON.parse(r.body)).toEqual({ error: { code: 'TF_ERR_X', message: 'line one\r\nline two', details: { a: 1 } } });
  });

  it('hides everything about an unexpected error', () => {
    const r = encodeErrorReply(new Error('password=hunter2'));
    expect(r.headers.get(ErrorHeaders.code)).toBe(MessagingErrorCode.Internal);
    expect(r.body).not.toContain('hunter2');
  });
});

describe('typed errors', () => {
  it('are recognised structurally, remote and local apart', () => {
    const remote = new RemoteError('TF_ERR_VAULT_SEALED', 'sealed', 'tf.cmd.vault.release');
    expect(isRemoteError(remote, 'TF_ERR_VAULT_SEALED')).toBe(true);
    expect(isMessagingError(remote)).toBe(false);
    const copy = Object.assign(Object.create(null), remote);
    Object.defineProperty(copy, Symbol.for('tameflare.error'), { value: true });
    Object.defineProperty(copy, Symbol.for('tameflare.remote-error'), { value: true });
    expect(isRemoteError(copy, 'TF_ERR_VAULT_SEALED')).toBe(true);
  });

  it('maps nats.js errors by name, so a second copy of nats-core is still understood', () => {
    const foreign = Object.assign(new Error('timeout'), { name: 'TimeoutError' });
    const e = toMessagingError(foreign, 'request', 'tf.cmd.x');
    expect(isMessagingError(e, MessagingErrorCode.Timeout)).toBe(true);
    expect(e.cause).toBe(foreign);
  });
});

describe('trace context headers', () => {
  it('round-trips a span context through traceparent and tracestate', () => {
    const h = headers();
    h.set('traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    h.set('tracestate', 'vendor=abc');
    const sc = trace.getSpanContext(extractTrace(h))!;
    expect(sc).toMatchObject({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1, isRemote: true });
    expect(sc.traceState?.get('vendor')).toBe('abc');
    expect(formatTraceparent(sc)).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
  });

  it('ignores malformed or all-zero trace ids', () => {
    for (const bad of ['garbage', '00-00000000000000000000000000000000-00f067aa0ba902b7-01', '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01']) {
      const h = headers();
      h.set('traceparent', bad);
      expect(trace.getSpanContext(extractTrace(h))).toBeUndefined();
    }
  });
});
