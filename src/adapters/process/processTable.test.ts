import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { descendantsOf, type ProcessInfo, parseStat } from "./processTable.ts";

/** A /proc/<pid>/stat line as the kernel writes it, 52 fields, with the interesting ones filled in. */
function statLine(
  pid: number,
  comm: string,
  state: string,
  ppid: number,
  pgid: number,
  sid: number,
) {
  const after = [
    state,
    ppid,
    pgid,
    sid,
    34816,
    pgid,
    4194560,
    110,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    20,
    0,
    1,
    0,
  ];
  return `${pid} (${comm}) ${[...after, 987654, 2281472, 140, ...Array(30).fill(0)].join(" ")}\n`;
}

describe("parseStat", () => {
  it("reads pid, ppid, group, session, state and start time", () => {
    assert.deepEqual(parseStat(statLine(42, "sleep", "S", 7, 42, 40)), {
      pid: 42,
      ppid: 7,
      pgid: 42,
      sid: 40,
      startTime: 987654,
      state: "S",
      comm: "sleep",
    });
  });

  it("splits at the last ')' so a command name may contain spaces and parentheses", () => {
    const info = parseStat(statLine(9, "a) b (c) Z 1", "Z", 3, 4, 5));
    assert.equal(info?.comm, "a) b (c) Z 1");
    assert.deepEqual([info?.state, info?.ppid, info?.pgid, info?.sid], ["Z", 3, 4, 5]);
    assert.equal(parseStat(statLine(9, ")", "R", 3, 4, 5))?.comm, ")");
    assert.equal(parseStat(statLine(9, "", "R", 3, 4, 5))?.comm, "");
  });

  it("rejects text that is not a stat line", () => {
    assert.equal(parseStat(""), undefined);
    assert.equal(parseStat("12 sleep S 1 1 1"), undefined);
    assert.equal(parseStat("12 (sleep)"), undefined);
  });
});

describe("descendantsOf", () => {
  const row = (pid: number, ppid: number): ProcessInfo => ({
    pid,
    ppid,
    pgid: pid,
    sid: pid,
    startTime: 0,
    state: "S",
    comm: "x",
  });

  it("follows parent links transitively, and not upwards or sideways", () => {
    const table = [
      row(1, 0),
      row(10, 1),
      row(11, 10),
      row(12, 11),
      row(13, 10),
      row(20, 1),
      row(21, 20),
    ];
    const found = descendantsOf(10, table).map((info) => info.pid);
    assert.deepEqual(found.sort(), [11, 12, 13]);
    assert.deepEqual(descendantsOf(12, table), []);
  });

  it("terminates on a cycle, which a table read while pids are reused could contain", () => {
    const found = descendantsOf(5, [row(5, 6), row(6, 5)]).map((info) => info.pid);
    assert.deepEqual(found, [6]);
  });
});
