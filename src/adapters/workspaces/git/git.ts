import { execFile } from "node:child_process";

/** What one git command gave. */
export interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Raised when a git command that must succeed did not, with what git said. */
export class GitError extends Error {
  readonly result: GitResult;
  readonly args: readonly string[];

  constructor(args: readonly string[], result: GitResult) {
    const said = (result.stderr || result.stdout).trim().split("\n").slice(-3).join(" / ");
    super(`git ${args.join(" ")} failed (exit ${result.code}): ${said || "no output"}`);
    this.name = "GitError";
    this.result = result;
    this.args = args;
  }
}

/** Variables that would point git at another repository than the one named by `cwd`. */
const LOCATION_VARIABLES = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_COMMON_DIR",
  "GIT_OBJECT_DIRECTORY",
  "GIT_NAMESPACE",
  "GIT_PREFIX",
];

/** The environment git runs with: the user's, minus repository overrides, never prompting, in English. */
export function gitEnvironment(
  base: Readonly<Record<string, string | undefined>> = process.env,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) {
    if (value !== undefined && !LOCATION_VARIABLES.includes(name)) env[name] = value;
  }
  return { ...env, GIT_TERMINAL_PROMPT: "0", LC_ALL: "C", LANG: "C", ...extra };
}

export interface GitOptions {
  cwd: string;
  env?: Record<string, string>;
  /** Return a failing result instead of throwing. */
  allowFailure?: boolean;
}

/** Runs `git <args>` in `cwd`; throws GitError when it fails, unless asked not to. */
export function git(args: readonly string[], options: GitOptions): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      "git",
      args,
      {
        cwd: options.cwd,
        env: options.env ?? gitEnvironment(),
        maxBuffer: 64 * 1024 * 1024,
        encoding: "utf8",
      },
      (error, stdout, stderr) => {
        const spawnFailed = error && typeof (error as { code?: unknown }).code === "string";
        if (spawnFailed) {
          reject(
            new Error(`cannot run git: ${(error as NodeJS.ErrnoException).code}`, {
              cause: error,
            }),
          );
          return;
        }
        const code = error ? Number((error as { code?: number }).code ?? 1) : 0;
        const result = { code, stdout, stderr };
        if (code !== 0 && !options.allowFailure) reject(new GitError(args, result));
        else resolve(result);
      },
    );
  });
}

/** `git <args>` whose trimmed standard output is the answer. */
export async function gitOut(args: readonly string[], options: GitOptions): Promise<string> {
  return (await git(args, options)).stdout.trim();
}

/** Lines of output, without empty ones. */
export function lines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "");
}
