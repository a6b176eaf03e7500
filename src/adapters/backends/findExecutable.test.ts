import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join, relative } from "node:path";
import { after, describe, it } from "node:test";
import { findExecutable } from "./findExecutable.ts";

describe("findExecutable", () => {
  const root = mkdtempSync(join(tmpdir(), "find-executable-"));
  after(() => rmSync(root, { recursive: true, force: true }));
  const first = join(root, "first");
  const second = join(root, "second");
  mkdirSync(first);
  mkdirSync(second);
  mkdirSync(join(first, "agent-dir"));
  writeFileSync(join(first, "agent"), "not executable");
  chmodSync(join(first, "agent"), 0o644);
  writeFileSync(join(second, "agent"), "#!/bin/sh\n");
  chmodSync(join(second, "agent"), 0o755);
  const pathEnv = ["", first, second].join(delimiter);

  it("returns the first executable regular file on PATH, skipping non-executables", () => {
    assert.equal(findExecutable("agent", pathEnv), join(second, "agent"));
  });

  it("skips directories and reports a name found nowhere as undefined", () => {
    assert.equal(findExecutable("agent-dir", pathEnv), undefined);
    assert.equal(findExecutable("no-such-agent", pathEnv), undefined);
    assert.equal(findExecutable("agent", undefined), undefined);
    assert.equal(findExecutable("", pathEnv), undefined);
  });

  it("checks absolute and relative paths directly, ignoring PATH", () => {
    assert.equal(findExecutable(join(second, "agent"), ""), join(second, "agent"));
    assert.equal(findExecutable(join(first, "agent"), pathEnv), undefined);
    const fromCwd = relative(process.cwd(), join(second, "agent"));
    assert.equal(
      findExecutable(fromCwd.includes("/") ? fromCwd : `./${fromCwd}`, ""),
      join(second, "agent"),
    );
  });
});
