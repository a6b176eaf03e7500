import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";

/**
 * Resolves a program the way a shell would before running it, so `orchestrate agents --backends` can say
 * "claude is not installed" up front instead of a task failing later with ENOENT.
 *
 * A name containing a path separator (`./bin/agent`, `/opt/agent`) is checked as given, relative to the
 * current directory; a bare name is looked up in each `pathEnv` entry in order. Empty entries are skipped
 * (a shell would read them as the current directory, which is never what an orchestrator wants).
 * Returns the absolute path of the first regular file the current user may execute, or undefined.
 */
export function findExecutable(name: string, pathEnv: string | undefined): string | undefined {
  if (name === "") return undefined;
  if (name.includes("/") || isAbsolute(name)) {
    const candidate = resolve(name);
    return isExecutableFile(candidate) ? candidate : undefined;
  }
  for (const dir of (pathEnv ?? "").split(delimiter)) {
    if (dir === "") continue;
    const candidate = resolve(join(dir, name));
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
