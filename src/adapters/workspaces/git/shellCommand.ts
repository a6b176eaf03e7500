import { spawn } from "node:child_process";

/** What a set-up or verification command gave: its exit code and the end of its combined output. */
export interface ShellResult {
  code: number;
  output: string;
  timedOut: boolean;
}

/** Output kept per command: the end, where the error usually is. */
export const SHELL_OUTPUT_LIMIT = 32 * 1024;

/**
 * Runs a configured command (`npm ci`, `npm test`) through the shell in `cwd`, in its own process
 * group so that a timeout ends everything it started. Never throws for the command's own failure.
 */
export function runShell(
  command: string,
  options: { cwd: string; env: Readonly<Record<string, string | undefined>>; timeoutMs: number },
): Promise<ShellResult> {
  return new Promise((resolve) => {
    let output = "";
    const keep = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (output.length > SHELL_OUTPUT_LIMIT * 2) output = output.slice(-SHELL_OUTPUT_LIMIT);
    };
    let timedOut = false;
    const child = spawn("sh", ["-c", command], {
      cwd: options.cwd,
      env: options.env as NodeJS.ProcessEnv,
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }, options.timeoutMs);
    let finished = false;
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      const tail =
        output.length > SHELL_OUTPUT_LIMIT ? `…${output.slice(-SHELL_OUTPUT_LIMIT)}` : output;
      resolve({ code, output: tail, timedOut });
    };
    child.on("error", (error) => {
      output += `cannot run sh: ${error.message}\n`;
      finish(127);
    });
    // On exit, not close: a command that left a background process (a server) holding its output
    // pipes would otherwise hang until the timeout. What it left running is ended with it.
    child.on("exit", (code, signal) => {
      setTimeout(() => {
        try {
          if (child.pid) process.kill(-child.pid, "SIGKILL");
        } catch {
          // Nothing left.
        }
        finish(code ?? (signal ? 128 + 9 : 1));
      }, 50);
    });
  });
}
