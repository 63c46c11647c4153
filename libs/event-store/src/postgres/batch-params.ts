import type { TameFlareEvent } from '@tameflare/contracts';

/**
 * A validated batch as the parameters of `batch_rows`: ids, types, versions and times as arrays,
 * data and metadata each as one JSON array (cheaper than arrays of JSON strings, which pg would
 * escape again element by element).
 */
export function batchParams(batch: readonly TameFlareEvent[]): [string[], string[], number[], string[], string, string] {
  const ids: string[] = [];
  const types: string[] = [];
  const versions: number[] = [];
  const times: string[] = [];
  const data: unknown[] = [];
  const metadata: unknown[] = [];
  for (const e of batch) {
    ids.push(e.id);
    types.push(e.type);
    versions.push(e.version);
    times.push(e.time);
    data.push(e.data);
    metadata.push(e.metadata);
  }
  return [ids, types, versions, times, JSON.stringify(data), JSON.stringify(metadata)];
}
