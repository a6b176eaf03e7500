import { UsageError } from "./errors.ts";

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * Parses a human duration such as `90s`, `30m`, `1h30m`, `7d` or a bare number of `bareUnit`s
 * into milliseconds. Used by `--timeout` (bare = seconds) and `--older-than` (bare = days).
 */
export function parseDuration(input: string, what: string, bareUnit: "s" | "d" = "s"): number {
  const text = input.trim().toLowerCase();
  if (/^\d+(\.\d+)?$/.test(text)) {
    const ms = Number(text) * (UNIT_MS[bareUnit] ?? 1000);
    if (ms > 0) return Math.round(ms);
  }
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)];
  const consumed = parts.map((p) => p[0]).join("");
  if (parts.length > 0 && consumed === text) {
    const ms = parts.reduce((sum, [, n, unit]) => sum + Number(n) * (UNIT_MS[unit ?? "s"] ?? 0), 0);
    if (ms > 0) return Math.round(ms);
  }
  throw new UsageError(
    `invalid ${what} '${input}'`,
    `give a positive duration such as 90s, 30m, 2h or 7d (a bare number means ${bareUnit === "s" ? "seconds" : "days"})`,
  );
}

/** Formats milliseconds compactly: `850ms`, `12s`, `4m05s`, `3h12m`, `6d4h`. */
export function formatDuration(ms: number): string {
  if (ms < 0) ms = 0;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, "0")}m`;
  const d = Math.floor(h / 24);
  return `${d}d${h % 24}h`;
}
