import { styleText } from "node:util";

/**
 * Terminal output helpers: colour only when the stream is a terminal (and NO_COLOR is unset), tables that
 * fit the terminal width, and JSON for scripts. Commands write through an `Output` so tests can capture it.
 */
export interface Output {
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  err: NodeJS.WritableStream & { isTTY?: boolean };
}

export const processOutput: Output = { out: process.stdout, err: process.stderr };

export type Style = Parameters<typeof styleText>[0];

/** Styles `text` for `stream`, or returns it plain when the stream is not a colour terminal. */
export function paint(style: Style, text: string, stream: Output["out"]): string {
  if (!stream.isTTY || process.env["NO_COLOR"] || process.env["TERM"] === "dumb") return text;
  return styleText(style, text, { validateStream: false });
}

export function printJson(output: Output, value: unknown): void {
  output.out.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function println(output: Output, line = ""): void {
  output.out.write(`${line}\n`);
}

/** Cuts `text` to `width` characters on one line, marking the cut with an ellipsis. */
export function truncate(text: string, width: number): string {
  const line = text.replace(/\s+/g, " ").trim();
  if (width <= 1) return line.slice(0, Math.max(0, width));
  return line.length > width ? `${line.slice(0, width - 1)}…` : line;
}

export interface Column<Row> {
  header: string;
  value: (row: Row) => string;
  /** The column that absorbs the remaining width (and is truncated); at most one. */
  flex?: boolean;
  style?: (row: Row) => Style | undefined;
}

/** Renders rows as an aligned table no wider than the terminal (120 columns when not a terminal). */
export function table<Row>(
  output: Output,
  rows: readonly Row[],
  columns: readonly Column<Row>[],
): string[] {
  const width = output.out.isTTY ? output.out.columns || 100 : 120;
  const cells = rows.map((row) => columns.map((c) => c.value(row)));
  const widths = columns.map((c, i) =>
    Math.max(c.header.length, ...cells.map((r) => (r[i] ?? "").length)),
  );
  const flexIndex = columns.findIndex((c) => c.flex);
  if (flexIndex >= 0) {
    const fixed = widths.reduce((sum, w, i) => (i === flexIndex ? sum : sum + w + 2), 0);
    widths[flexIndex] = Math.max(12, Math.min(widths[flexIndex] ?? 12, width - fixed - 2));
  }
  const render = (values: string[], styles: (Style | undefined)[]) =>
    `  ${values
      .map((v, i) => {
        const w = widths[i] ?? 0;
        const text = truncate(v, w);
        const padded = i === values.length - 1 ? text : text.padEnd(w);
        const style = styles[i];
        return style ? paint(style, padded, output.out) : padded;
      })
      .join("  ")}`.trimEnd();
  const lines = [
    render(
      columns.map((c) => c.header),
      columns.map(() => "dim" as Style),
    ),
  ];
  rows.forEach((row, r) => {
    lines.push(
      render(
        cells[r] ?? [],
        columns.map((c) => c.style?.(row)),
      ),
    );
  });
  return lines;
}

/** A style per task status, so the eye finds failures first. */
export function statusStyle(status: string): Style | undefined {
  switch (status) {
    case "completed":
      return "green";
    case "failed":
      return "red";
    case "in_progress":
    case "assigned":
    case "executing":
      return "cyan";
    case "approved":
      return "yellow";
    case "cancelled":
      return "dim";
    default:
      return undefined;
  }
}

/** "3m ago" style ages for lists. */
export function formatAge(then: number, now: number): string {
  const s = Math.max(0, Math.round((now - then) / 1000));
  if (s < 60) return `${s}s ago`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}m ago`;
  const h = Math.round(m / 60);
  if (h < 48) return `${h}h ago`;
  return `${Math.round(h / 24)}d ago`;
}

export function formatTime(ms: number | null): string {
  return ms === null
    ? "-"
    : new Date(ms)
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, "Z");
}
