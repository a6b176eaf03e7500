import { execFile } from "node:child_process";

/** `du -sk`: bytes on disk under `path` (hard links counted once), or null when it cannot tell. */
export function diskUsage(path: string): Promise<number | null> {
  return new Promise((resolve) => {
    execFile("du", ["-sk", path], { encoding: "utf8" }, (error, stdout) => {
      const kib = Number(stdout.split(/\s/)[0]);
      resolve(error || !Number.isFinite(kib) ? null : kib * 1024);
    });
  });
}
