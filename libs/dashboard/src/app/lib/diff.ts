/** One line of a diff: kept, removed from the old text, or added in the new one. */
export interface DiffLine {
  kind: 'same' | 'removed' | 'added';
  text: string;
  /** 1-based line number in the old text (same/removed) and in the new text (same/added). */
  oldLine: number | null;
  newLine: number | null;
}

/** The most lines either side before the diff falls back to "everything changed" (O(n·m) memory otherwise). */
export const MAX_DIFF_LINES = 5000;

/**
 * A line diff of two texts (longest common subsequence after trimming the common head and tail),
 * for showing what changed between two policy versions.
 */
export function diffLines(oldText: string, newText: string): DiffLine[] {
  const a = splitLines(oldText);
  const b = splitLines(newText);
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const out: DiffLine[] = [];
  for (let i = 0; i < head; i++) out.push({ kind: 'same', text: a[i]!, oldLine: i + 1, newLine: i + 1 });
  const am = a.slice(head, a.length - tail);
  const bm = b.slice(head, b.length - tail);
  if (am.length > MAX_DIFF_LINES || bm.length > MAX_DIFF_LINES) {
    am.forEach((t, i) => out.push({ kind: 'removed', text: t, oldLine: head + i + 1, newLine: null }));
    bm.forEach((t, i) => out.push({ kind: 'added', text: t, oldLine: null, newLine: head + i + 1 }));
  } else {
    const n = am.length;
    const m = bm.length;
    // lcs[i][j] = LCS length of am[i..] and bm[j..], stored flat.
    const lcs = new Uint32Array((n + 1) * (m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * (m + 1) + j] = am[i] === bm[j] ? lcs[(i + 1) * (m + 1) + j + 1]! + 1 : Math.max(lcs[(i + 1) * (m + 1) + j]!, lcs[i * (m + 1) + j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && am[i] === bm[j]) {
        out.push({ kind: 'same', text: am[i]!, oldLine: head + i + 1, newLine: head + j + 1 });
        i++;
        j++;
      } else if (i < n && (j === m || lcs[(i + 1) * (m + 1) + j]! >= lcs[i * (m + 1) + j + 1]!)) {
        // Removals before additions on a tie, as in unified diffs.
        out.push({ kind: 'removed', text: am[i]!, oldLine: head + i + 1, newLine: null });
        i++;
      } else {
        out.push({ kind: 'added', text: bm[j]!, oldLine: null, newLine: head + j + 1 });
        j++;
      }
    }
  }
  for (let k = 0; k < tail; k++) {
    const ai = a.length - tail + k;
    const bi = b.length - tail + k;
    out.push({ kind: 'same', text: a[ai]!, oldLine: ai + 1, newLine: bi + 1 });
  }
  return out;
}

/** Counts of added and removed lines. */
export function diffStats(lines: readonly DiffLine[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const l of lines) {
    if (l.kind === 'added') added++;
    else if (l.kind === 'removed') removed++;
  }
  return { added, removed };
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r\n|\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** A run of unchanged lines left out of a diff view. */
export interface DiffGap {
  kind: 'gap';
  count: number;
}

/**
 * The diff with unchanged runs longer than twice `context` folded into gaps, so a one-line change
 * in a long policy shows as that line and a few around it.
 */
export function foldUnchanged(lines: readonly DiffLine[], context = 3): (DiffLine | DiffGap)[] {
  const out: (DiffLine | DiffGap)[] = [];
  let i = 0;
  while (i < lines.length) {
    if (lines[i]!.kind !== 'same') {
      out.push(lines[i]!);
      i++;
      continue;
    }
    let j = i;
    while (j < lines.length && lines[j]!.kind === 'same') j++;
    const run = lines.slice(i, j);
    const keepHead = i === 0 ? 0 : context;
    const keepTail = j === lines.length ? 0 : context;
    if (run.length > keepHead + keepTail + 1) {
      out.push(...run.slice(0, keepHead), { kind: 'gap', count: run.length - keepHead - keepTail }, ...run.slice(run.length - keepTail));
    } else out.push(...run);
    i = j;
  }
  return out;
}
