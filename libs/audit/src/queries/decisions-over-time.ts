import { sql, type Kysely } from 'kysely';
import type { ReadModels } from '../db/connect.ts';
import { AuditError, AuditErrorCode } from '../errors.ts';
import { nameFilter, timeRange } from './filters.ts';

/** Bucket widths of the decisions chart, in minutes. */
export const BUCKET_MINUTES = { minute: 1, five_minutes: 5, fifteen_minutes: 15, hour: 60, day: 1440 } as const;
export type BucketWidth = keyof typeof BUCKET_MINUTES;

/** The most buckets one chart query returns. */
export const MAX_BUCKETS = 2000;

export interface DecisionBucket {
  /** Start of the bucket, ISO 8601. */
  start: string;
  allow: number;
  deny: number;
  requireApproval: number;
}

/**
 * Decisions per bucket in `[since, until)`, from the per-minute counts the projection keeps, so
 * a day's chart reads at most 1,440 rows per gateway and decision whatever the traffic. Buckets
 * are aligned to `since`; empty buckets are included.
 *
 * @throws AuditError `TF_ERR_AUDIT_INVALID_FILTER` for a missing or inverted range, or too many buckets.
 */
export async function decisionsOverTime(
  db: Kysely<ReadModels>,
  args: { since: string; until: string; width: BucketWidth; gatewayId?: string | null },
): Promise<DecisionBucket[]> {
  const minutes = BUCKET_MINUTES[args.width];
  if (!minutes) throw new AuditError(AuditErrorCode.InvalidFilter, `unknown bucket width ${JSON.stringify(args.width)}`);
  const { since, until } = timeRange(args.since, args.until);
  if (!since || !until) throw new AuditError(AuditErrorCode.InvalidFilter, 'since and until are both required');
  const gateway = nameFilter('gatewayId', args.gatewayId);
  const widthMs = minutes * 60_000;
  const startMs = Date.parse(since);
  const count = Math.ceil((Date.parse(until) - startMs) / widthMs);
  if (count > MAX_BUCKETS) {
    throw new AuditError(AuditErrorCode.InvalidFilter, `${count} buckets of ${args.width} between since and until; at most ${MAX_BUCKETS}: use a wider bucket or a shorter range`);
  }
  let q = db
    .selectFrom('decision_counts')
    .select([
      sql<string>`date_bin(${`${minutes} minutes`}::interval, bucket, ${since}::timestamptz)`.as('start'),
      'decision',
      sql<string>`sum(count)::text`.as('n'),
    ])
    .where('bucket', '>=', since)
    .where('bucket', '<', until)
    .groupBy(['start', 'decision']);
  if (gateway) q = q.where('gateway_id', '=', gateway);
  const rows = await q.execute();
  const buckets: DecisionBucket[] = Array.from({ length: count }, (_, i) => ({ start: new Date(startMs + i * widthMs).toISOString(), allow: 0, deny: 0, requireApproval: 0 }));
  for (const r of rows) {
    const i = Math.floor((Date.parse(r.start) - startMs) / widthMs);
    const b = buckets[i];
    if (!b) continue;
    const n = Number(r.n);
    if (r.decision === 'allow') b.allow += n;
    else if (r.decision === 'deny') b.deny += n;
    else b.requireApproval += n;
  }
  return buckets;
}
