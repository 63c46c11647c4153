import { AuditError, AuditErrorCode } from '../errors.ts';

/** A keyset position: the sort time and the row id that breaks ties. */
export interface KeysetPosition {
  time: string;
  id: string;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
const KEY = /^[A-Za-z0-9._:/-]{1,300}$/;

/** Encodes a position in list `kind` as an opaque cursor (base64url of a small JSON array). */
export function encodeCursor(kind: string, p: KeysetPosition): string {
  return Buffer.from(JSON.stringify(['tf1', kind, p.time, p.id])).toString('base64url');
}

function invalid(kind: string, why: string): AuditError {
  return new AuditError(AuditErrorCode.InvalidCursor, `invalid cursor for ${kind}: ${why}. Use a cursor from a previous page of the same list`, {
    details: { list: kind },
  });
}

/**
 * Decodes a cursor of list `kind`, refusing anything this API did not produce: wrong encoding,
 * wrong list, a time that is not ISO 8601 UTC, an id with characters ids never have.
 *
 * @throws AuditError `TF_ERR_AUDIT_INVALID_CURSOR`
 */
export function decodeCursor(kind: string, cursor: string): KeysetPosition {
  if (typeof cursor !== 'string' || cursor.length === 0 || cursor.length > 600 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw invalid(kind, 'not a cursor');
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid(kind, 'not a cursor');
  }
  if (!Array.isArray(v) || v.length !== 4 || v[0] !== 'tf1') throw invalid(kind, 'not a cursor');
  if (v[1] !== kind) throw invalid(kind, `it belongs to ${typeof v[1] === 'string' ? v[1].slice(0, 40) : 'another list'}`);
  const [, , time, id] = v as [string, string, unknown, unknown];
  if (typeof time !== 'string' || !ISO.test(time) || Number.isNaN(Date.parse(time))) throw invalid(kind, 'bad position');
  if (typeof id !== 'string' || !KEY.test(id)) throw invalid(kind, 'bad position');
  return { time, id };
}
