/** Percentile helpers shared by benchmark suites. */

/** Sorts a copy and returns the requested percentiles (0–100) by nearest rank. */
export function percentiles(samples: number[], ps: number[] = [50, 90, 99]): Record<string, number> {
  const s = Float64Array.from(samples).sort();
  const out: Record<string, number> = {};
  for (const p of ps) {
    const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
    out[`p${p}`] = s.length ? s[i]! : Number.NaN;
  }
  return out;
}

/** Rounds for tables: 3 significant digits below 100, integers above. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return 'n/a';
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  return Number(n.toPrecision(3)).toString();
}

/** Prints the suite's result as the last stdout line, as bench/run.ts expects. */
export function emit(result: unknown): void {
  process.stdout.write('\n' + JSON.stringify(result) + '\n');
}

export const quick = process.argv.includes('--quick');
