/** An async iterator with a look-ahead buffer: `at(i)` peeks the i-th next item without consuming it. */
export interface Lookahead<T> {
  at(i: number): Promise<T | undefined>;
  shift(): Promise<T | undefined>;
}

export function lookahead<T>(source: AsyncIterable<T>): Lookahead<T> {
  const it = source[Symbol.asyncIterator]();
  const buffer: T[] = [];
  let done = false;
  const fill = async (n: number) => {
    while (!done && buffer.length <= n) {
      const r = await it.next();
      if (r.done) done = true;
      else buffer.push(r.value);
    }
  };
  return {
    async at(i) {
      await fill(i);
      return buffer[i];
    },
    async shift() {
      await fill(0);
      return buffer.shift();
    },
  };
}
