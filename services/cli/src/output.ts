import type { Writable } from 'node:stream';

/** Where a command writes, and how: `--json` for scripts, plain lines and tables for people. */
export interface Output {
  readonly json: boolean;
  /** True when stderr is a terminal (progress lines are redrawn in place). */
  readonly interactive: boolean;
  /** A line for people on stdout (suppressed in --json mode). */
  line(text?: string): void;
  /** A result: JSON on stdout in --json mode, else `human()` lines. */
  result(value: unknown, human: () => void): void;
  /** A column-aligned table on stdout (human mode). */
  table(headers: string[], rows: (string | number | null | undefined)[][]): void;
  /** A line on stderr, always (warnings, summaries next to an agent's own output). */
  note(text: string): void;
  /** A progress line on stderr: redrawn in place on a terminal, one line per update otherwise. */
  progress(text: string): void;
  /** Ends a progress line. */
  endProgress(): void;
  readonly style: Style;
  readonly stdout: Writable;
  readonly stderr: Writable;
}

export interface Style {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
}

function makeStyle(enabled: boolean): Style {
  const wrap = (open: number, close: number) => (s: string) => (enabled ? `\u001b[${open}m${s}\u001b[${close}m` : s);
  return { bold: wrap(1, 22), dim: wrap(2, 22), red: wrap(31, 39), green: wrap(32, 39), yellow: wrap(33, 39) };
}

export function createOutput(options: { json: boolean; stdout?: Writable & { isTTY?: boolean }; stderr?: Writable & { isTTY?: boolean }; env?: Record<string, string | undefined> }): Output {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  const interactive = Boolean((stderr as { isTTY?: boolean }).isTTY);
  const colors = Boolean((stdout as { isTTY?: boolean }).isTTY) && !env.NO_COLOR && env.TERM !== 'dumb';
  const style = makeStyle(colors);
  let progressShown = false;
  const write = (s: Writable, text: string) => void s.write(text);
  const endProgress = () => {
    if (progressShown && interactive) write(stderr, '\n');
    progressShown = false;
  };
  return {
    json: options.json,
    interactive,
    style,
    stdout,
    stderr,
    line(text = '') {
      if (options.json) return;
      endProgress();
      write(stdout, text + '\n');
    },
    result(value, human) {
      endProgress();
      if (options.json) write(stdout, JSON.stringify(value, null, 2) + '\n');
      else human();
    },
    table(headers, rows) {
      if (options.json) return;
      endProgress();
      const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '-' : String(c))))];
      const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
      cells.forEach((r, n) => {
        const text = r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
        write(stdout, (n === 0 ? style.bold(text) : text) + '\n');
      });
    },
    note(text) {
      endProgress();
      write(stderr, text + '\n');
    },
    progress(text) {
      if (interactive) {
        write(stderr, `\r\u001b[2K${text}`);
        progressShown = true;
      } else {
        write(stderr, text + '\n');
      }
    },
    endProgress,
  };
}

/** `1.23 s` or `45 ms`. */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}
