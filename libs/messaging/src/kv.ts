import { JetStreamApiError } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import { MessagingError, MessagingErrorCode, toMessagingError } from './errors.ts';
import { encode } from './request.ts';
import type { BusCore } from './types.ts';

/** A value read from KV with the revision to use for a compare-and-set update. */
export interface KvValue<T> {
  value: T;
  revision: number;
}

/** JSON values in one KV bucket. */
export interface KvBucket {
  readonly bucket: string;
  /** The current value, or null when the key is absent or deleted. */
  get<T = unknown>(key: string): Promise<KvValue<T> | null>;
  /** Writes unconditionally; returns the new revision. */
  put(key: string, value: unknown): Promise<number>;
  /** Writes only if the key does not exist (or was deleted). @throws `TF_ERR_KV_CONFLICT` */
  create(key: string, value: unknown): Promise<number>;
  /** Writes only if the key is still at `revision`. @throws `TF_ERR_KV_CONFLICT` */
  update(key: string, value: unknown, revision: number): Promise<number>;
  /** Deletes (optionally only at `revision`); watchers see the delete. */
  delete(key: string, options?: { revision?: number }): Promise<void>;
}

const WRONG_LAST_SEQUENCE = 10071;

export async function openBucket(core: BusCore, bucket: string, cache: Map<string, Promise<KV>>): Promise<KvBucket> {
  let kvp = cache.get(bucket);
  if (!kvp) {
    kvp = core.kvm.open(bucket);
    cache.set(bucket, kvp);
    kvp.catch(() => cache.delete(bucket));
  }
  let kv: KV;
  try {
    kv = await kvp;
  } catch (err) {
    throw toMessagingError(err, 'kv.open', bucket);
  }
  const where = (key: string) => `${bucket}/${key}`;
  const fail = (op: string, key: string, err: unknown): never => {
    if ((err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE) || /wrong last sequence/i.test((err as Error)?.message ?? '')) {
      throw new MessagingError(MessagingErrorCode.KvConflict, `${op} ${where(key)}: the key changed concurrently`, {
        cause: err,
        details: { bucket, key },
      });
    }
    throw toMessagingError(err, `kv.${op}`, where(key));
  };
  return {
    bucket,
    async get<T>(key: string) {
      core.ensureConnected('kv.get', where(key));
      try {
        const e = await kv.get(key);
        if (!e || e.operation !== 'PUT') return null;
        return { value: e.json<T>(), revision: e.revision };
      } catch (err) {
        return fail('get', key, err);
      }
    },
    async put(key, value) {
      core.ensureConnected('kv.put', where(key));
      try {
        return await kv.put(key, encode(value, where(key)));
      } catch (err) {
        return fail('put', key, err);
      }
    },
    async create(key, value) {
      core.ensureConnected('kv.create', where(key));
      try {
        return await kv.create(key, encode(value, where(key)));
      } catch (err) {
        return fail('create', key, err);
      }
    },
    async update(key, value, revision) {
      core.ensureConnected('kv.update', where(key));
      try {
        return await kv.update(key, encode(value, where(key)), revision);
      } catch (err) {
        return fail('update', key, err);
      }
    },
    async delete(key, options) {
      core.ensureConnected('kv.delete', where(key));
      try {
        await kv.delete(key, options?.revision !== undefined ? { previousSeq: options.revision } : undefined);
      } catch (err) {
        fail('delete', key, err);
      }
    },
  };
}
