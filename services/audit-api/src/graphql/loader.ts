/** A per-request batching loader: every `load` in one tick becomes one `batch` call. */
export interface Loader<K, V> {
  load(key: K): Promise<V>;
}

export function createLoader<K, V>(batch: (keys: readonly K[]) => Promise<Map<K, V>>, fallback: V): Loader<K, V> {
  let pending: { key: K; resolve: (v: V) => void; reject: (e: unknown) => void }[] = [];
  const flush = () => {
    const items = pending;
    pending = [];
    const keys = [...new Set(items.map((i) => i.key))];
    batch(keys).then(
      (found) => items.forEach((i) => i.resolve(found.has(i.key) ? found.get(i.key)! : fallback)),
      (err) => items.forEach((i) => i.reject(err)),
    );
  };
  return {
    load(key) {
      return new Promise<V>((resolve, reject) => {
        if (pending.length === 0) queueMicrotask(flush);
        pending.push({ key, resolve, reject });
      });
    },
  };
}
