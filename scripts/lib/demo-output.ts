/**
 * Output of the local demo (`npm start`): one progress line updated in place on a terminal (plain lines
 * otherwise, e.g. in CI), and plain-text tables. No colours, no dependencies.
 */

/** Where the demo writes: stdout-like streams (only `write` and `isTTY` are used). */
export interface DemoStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Shows progress: `[n/total] step … elapsed`, in place on a TTY, one line per finished step otherwise. */
export class Progress {
  private step = 0;
  private label = "";
  private detail = "";
  private stepStarted = 0;
  private readonly started = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private shown = false;

  constructor(
    private readonly out: DemoStream,
    private readonly total: number,
    private readonly tty: boolean = out.isTTY === true,
  ) {}

  /** Starts the next step. */
  start(label: string): void {
    this.step++;
    this.label = label;
    this.detail = "";
    this.stepStarted = Date.now();
    if (this.tty) {
      this.render();
      this.timer ??= setInterval(() => this.render(), 250);
      this.timer.unref();
    }
  }

  /** Updates the current step's detail (shown in place on a TTY only). */
  update(detail: string): void {
    this.detail = detail;
    if (this.tty) this.render();
  }

  /** Ends the current step with its outcome (a plain line when not on a TTY). */
  done(outcome: string): void {
    const seconds = ((Date.now() - this.stepStarted) / 1000).toFixed(1);
    if (this.tty) {
      this.detail = outcome;
      this.render();
    } else {
      this.out.write(`[${this.step}/${this.total}] ${this.label}: ${outcome} (${seconds} s)\n`);
    }
  }

  /** Removes the progress line (before the tables, or before an error message). */
  clear(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.tty && this.shown) this.out.write("\r\x1b[2K");
    this.shown = false;
  }

  /** Seconds since the demo started. */
  elapsedSeconds(): number {
    return (Date.now() - this.started) / 1000;
  }

  /** The step running (or last run), for error messages. */
  get current(): string {
    return this.label;
  }

  private render(): void {
    const seconds = ((Date.now() - this.started) / 1000).toFixed(1);
    const text = `[${this.step}/${this.total} ${seconds} s] ${this.label}${this.detail ? ` — ${this.detail}` : ""}`;
    const columns = (this.out as { columns?: number }).columns;
    const width = columns !== undefined && columns >= 20 ? columns : 80;
    this.out.write(`\r\x1b[2K${cut(text, width - 1)}`);
    this.shown = true;
  }
}

/** Cuts `text` to at most `max` characters (code points), ending with `…` when cut. */
export function cut(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join("")}…`;
}

/** The first line of `text`, cut to `max` characters. */
export function firstLine(text: string, max: number): string {
  return cut(text.split("\n", 1)[0] ?? "", max);
}

/** Epoch seconds as ISO 8601 in UTC, without milliseconds: `2026-11-21T05:40:00Z`. */
export function isoSeconds(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** A number as shown in a table: integers as is, others with at most 3 decimals. */
export function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Math.round(value * 1000) / 1000);
}

export interface Column {
  header: string;
  /** Right-aligned (numbers). */
  right?: boolean;
}

/** A plain-text table with a title line, a header, a rule and the rows; `(none)` when empty. */
export function renderTable(title: string, columns: Column[], rows: string[][]): string {
  const widths = columns.map((c, i) => Math.max(c.header.length, ...rows.map((r) => [...(r[i] ?? "")].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => {
        const pad = " ".repeat(widths[i]! - [...cell].length);
        return columns[i]!.right ? pad + cell : i === cells.length - 1 ? cell : cell + pad;
      })
      .join("  ")
      .trimEnd();
  const out = [title, `  ${line(columns.map((c) => c.header))}`, `  ${widths.map((w) => "-".repeat(w)).join("  ")}`];
  if (rows.length === 0) out.push("  (none)");
  for (const row of rows) out.push(`  ${line(row)}`);
  return `${out.join("\n")}\n`;
}
