// Installs the pinned agent CLIs (see clis.ts) into .cache/agent-clis/<name>/, one npm prefix each, and
// skips any whose pinned version is already there. Run by `npm run test:agents` before the tests:
//   node test/agents/installClis.ts
// Each installed CLI is checked by running `<cli> --version` with a throwaway HOME, so nothing is written
// into the real home directory's CLI config.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { binDirOf, CACHE_DIR, installedVersion, PINNED, type PinnedCli, prefixOf } from "./clis.ts";

function log(line: string): void {
  process.stdout.write(`agent-clis: ${line}\n`);
}

/** Bytes under `dir`, each file counted once however many hard links it has (symlinks not followed). */
function sizeOf(dir: string, seen = new Set<number>()): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += sizeOf(path, seen);
    else if (entry.isFile()) {
      const stat = statSync(path);
      if (!seen.has(stat.ino)) {
        seen.add(stat.ino);
        total += stat.size;
      }
    }
  }
  return total;
}

function install(cli: PinnedCli): void {
  const prefix = prefixOf(cli);
  mkdirSync(prefix, { recursive: true });
  // A manifest naming the exact version, so `npm install` in the prefix replaces any other version.
  writeFileSync(
    join(prefix, "package.json"),
    `${JSON.stringify(
      { name: `agent-cli-${cli.name}`, private: true, dependencies: { [cli.pkg]: cli.version } },
      null,
      2,
    )}\n`,
  );
  const started = Date.now();
  log(`installing ${cli.pkg}@${cli.version} into ${prefix} ...`);
  const npm = spawnSync(
    "npm",
    ["install", "--prefix", prefix, "--no-audit", "--no-fund", "--loglevel=error"],
    { stdio: ["ignore", "inherit", "inherit"], env: { ...process.env, npm_config_yes: "true" } },
  );
  if (npm.status !== 0) {
    throw new Error(
      `npm install of ${cli.pkg}@${cli.version} failed (exit ${npm.status ?? npm.signal})`,
    );
  }
  const got = installedVersion(cli);
  if (got !== cli.version) {
    throw new Error(`after npm install, ${cli.pkg} is ${got ?? "missing"}, not ${cli.version}`);
  }
  const mb = (sizeOf(join(prefix, "node_modules")) / 1e6).toFixed(0);
  log(
    `installed ${cli.pkg}@${cli.version} (${mb} MB) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

/** Runs `<cli> --version` from the cache with a throwaway HOME; returns its first output line. */
function versionLine(cli: PinnedCli): string {
  const home = mkdtempSync(join(tmpdir(), "agent-cli-version-"));
  try {
    const result = spawnSync(join(binDirOf(cli), cli.name), ["--version"], {
      stdio: ["ignore", "pipe", "pipe"],
      encoding: "utf8",
      timeout: 60_000,
      env: {
        ...process.env,
        HOME: home,
        CODEX_HOME: join(home, ".codex"),
        GEMINI_CLI_HOME: home,
        CLAUDE_CONFIG_DIR: join(home, ".claude"),
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        GEMINI_CLI_NO_RELAUNCH: "true",
      },
    });
    const line = `${result.stdout}${result.stderr}`.trim().split("\n")[0] ?? "";
    if (result.status !== 0 || !line.includes(cli.version)) {
      throw new Error(
        `${cli.name} --version exited ${result.status ?? result.signal} and printed ${JSON.stringify(line)}, expected ${cli.version}`,
      );
    }
    return line;
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

function main(): void {
  mkdirSync(CACHE_DIR, { recursive: true });
  const started = Date.now();
  for (const cli of PINNED) {
    const have = installedVersion(cli);
    if (have === cli.version) {
      log(`${cli.pkg}@${cli.version} already installed, skipping`);
    } else {
      if (have !== undefined) log(`${cli.pkg} is ${have} in the cache; pinned is ${cli.version}`);
      install(cli);
    }
    log(`${cli.name} --version: ${versionLine(cli)}`);
  }
  log(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

try {
  main();
} catch (error) {
  process.stderr.write(`agent-clis: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
