import { type Config, type ConfigFlags, loadConfig } from "../core/config.ts";

/** Options every command accepts (defined on the root program). */
export interface GlobalOptions {
  baseDir?: string;
  maxAgents?: string;
  /** Isolation mode (`--isolation` of run and submit). */
  isolation?: string;
  busyTimeout?: string;
  debug?: boolean;
}

/** The configuration for this invocation: environment, `.env` in the working directory, flags. */
export function configFrom(globals: GlobalOptions): Config {
  const flags: ConfigFlags = {};
  if (globals.baseDir !== undefined) flags.baseDir = globals.baseDir;
  if (globals.busyTimeout !== undefined) flags.busyTimeoutMs = globals.busyTimeout;
  if (globals.maxAgents !== undefined) flags.maxAgents = globals.maxAgents;
  if (globals.isolation !== undefined) flags.isolation = globals.isolation;
  return loadConfig({ env: process.env, cwd: process.cwd(), flags });
}
