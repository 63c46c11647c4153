import { AuditError, AuditErrorCode } from '../errors.ts';
import { decodeCursor, encodeCursor, type KeysetPosition } from './cursor.ts';

/** Relay connection arguments. Lists are newest first. */
export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/** A page of rows, newest first, with their cursors. */
export interface Page<T> {
  rows: T[];
  cursors: string[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

/** The largest page any list returns. */
export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 50;

/** Fetches up to `limit` rows strictly `older` (descending) or `newer` (ascending) than `from`. */
export type KeysetFetch<T> = (direction: 'older' | 'newer', from: KeysetPosition | null, limit: number) => Promise<T[]>;

function size(name: string, v: number | null | undefined): number | null {
  if (v === null || v === undefined) return null;
  if (!Number.isInteger(v) || v < 1 || v > MAX_PAGE_SIZE) {
    throw new AuditError(AuditErrorCode.InvalidFilter, `${name} must be between 1 and ${MAX_PAGE_SIZE}, got ${v}`);
  }
  return v;
}

/**
 * Keyset pagination over an immutable sort key `(time, id)`: a page never repeats or skips a row
 * because rows were inserted meanwhile (new rows only ever appear before the first page).
 *
 * @throws AuditError `TF_ERR_AUDIT_INVALID_CURSOR` / `TF_ERR_AUDIT_INVALID_FILTER`
 */
export async function keysetPage<T>(kind: string, args: PageArgs, fetch: KeysetFetch<T>, keyOf: (row: T) => KeysetPosition): Promise<Page<T>> {
  const first = size('first', args.first);
  const last = size('last', args.last);
  if ((first !== null || args.after) && (last !== null || args.before)) {
    throw new AuditError(AuditErrorCode.InvalidFilter, 'use first/after or last/before, not both');
  }
  const cursorsOf = (rows: T[]) => rows.map((r) => encodeCursor(kind, keyOf(r)));
  if (last !== null || args.before) {
    const n = last ?? DEFAULT_PAGE_SIZE;
    const before = args.before ? decodeCursor(kind, args.before) : null;
    const rows = await fetch('newer', before, n + 1);
    const page = rows.slice(0, n).reverse();
    const hasNextPage = before ? (await fetch('older', before, 1)).length > 0 : false;
    return { rows: page, cursors: cursorsOf(page), hasNextPage, hasPreviousPage: rows.length > n };
  }
  const n = first ?? DEFAULT_PAGE_SIZE;
  const after = args.after ? decodeCursor(kind, args.after) : null;
  const rows = await fetch('older', after, n + 1);
  const page = rows.slice(0, n);
  const hasPreviousPage = after ? (await fetch('newer', after, 1)).length > 0 : false;
  return { rows: page, cursors: cursorsOf(page), hasNextPage: rows.length > n, hasPreviousPage };
}
