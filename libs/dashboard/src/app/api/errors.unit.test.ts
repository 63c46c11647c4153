import { describe, expect, it } from 'vitest';
import { classifyGraphQLError, classifyHttpStatus, describeError, isAlreadySettled } from './errors.ts';

describe('classifyGraphQLError', () => {
  it('a refused token ends the session, whether the API says so by status or by code', () => {
    expect(classifyGraphQLError(401, [{ message: 'unknown or revoked API token' }]).kind).toBe('unauthenticated');
    expect(classifyGraphQLError(200, [{ message: 'x', extensions: { code: 'UNAUTHENTICATED', tfCode: 'TF_ERR_AUTH_INVALID' } }])).toMatchObject({
      kind: 'unauthenticated',
      code: 'TF_ERR_AUTH_INVALID',
    });
    expect(classifyGraphQLError(200, [{ message: 'x', extensions: { tfCode: 'TF_ERR_AUTH_MISSING' } }]).kind).toBe('unauthenticated');
  });

  it('a token store or service that is down is "unreachable", not a bad token', () => {
    expect(classifyGraphQLError(503, [{ message: 'cannot check', extensions: { code: 'UNAUTHENTICATED', tfCode: 'TF_ERR_AUTH_UNAVAILABLE' } }]).kind).toBe('unreachable');
    const e = classifyGraphQLError(200, [{ message: 'the service behind this operation is unavailable right now', extensions: { code: 'SERVICE_UNAVAILABLE', tfCode: 'TF_ERR_MESSAGING_TIMEOUT' } }]);
    expect(e.kind).toBe('unreachable');
    expect(describeError(e)).toMatch(/could not do this right now/);
  });

  it('a missing role is "forbidden"', () => {
    expect(classifyGraphQLError(200, [{ message: 'approve needs the approver role', extensions: { code: 'FORBIDDEN', http: { status: 403 } } }]).kind).toBe('forbidden');
  });

  it('a refused vote keeps its TameFlare code, and "already decided" is recognised', () => {
    const e = classifyGraphQLError(200, [{ message: 'approval is granted', extensions: { code: 'COMMAND_REFUSED', tfCode: 'TF_ERR_APPROVAL_ALREADY_DECIDED' } }]);
    expect(e).toMatchObject({ kind: 'rejected', code: 'TF_ERR_APPROVAL_ALREADY_DECIDED', message: 'approval is granted' });
    expect(isAlreadySettled(e)).toBe(true);
    expect(isAlreadySettled(classifyGraphQLError(200, [{ message: 'bad', extensions: { code: 'BAD_USER_INPUT', tfCode: 'TF_ERR_AUDIT_INVALID_FILTER' } }]))).toBe(false);
  });
});

describe('classifyHttpStatus', () => {
  it('names gateway errors as unreachable and anything else as a server problem with a short excerpt', () => {
    expect(classifyHttpStatus(502, '').kind).toBe('unreachable');
    const e = classifyHttpStatus(500, '<html>\n  <body>Internal   error</body></html>');
    expect(e.kind).toBe('server');
    expect(e.message).toBe('the API answered HTTP 500: <html> <body>Internal error</body></html>');
  });
});
