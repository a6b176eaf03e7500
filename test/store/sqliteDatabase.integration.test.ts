// What only the SQLite adapter has: its file, schema migrations, pragmas and locks. The behaviour every
// adapter shares is in the Store contract (storeContract.ts); SQL here goes through the test's own
// connection to the file (helpers/sqliteFile.ts), never through the store's.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";
import {
  LATEST_SCHEMA_VERSION,
  MIGRATIONS,
} from "../../src/adapters/store/sqlite/migrations/index.ts";
import { openSqliteStore } from "../../src/adapters/store/sqlite/sqliteStore.ts";
import { ConfigError, ConflictError } from "../../src/core/errors.ts";
import { holdWriteLock, readSqliteFile, writeSqliteFile } from "../helpers/sqliteFile.ts";
import { makeTempStore, type TempStore } from "../helpers/tempStore.ts";
import { cancellationOf, newTask, T0, taskId } from "./storeFixtures.ts";

/** Asserts that opening the store at `path` fails with a ConfigError for `reason`. */
function assertOpenRefused(path: string, reason: string): void {
  assert.throws(
    () => openSqliteStore({ path, busyTimeoutMs: 100 }),
    (e: unknown) => e instanceof ConfigError && e.reason === reason && e.hint === undefined,
  );
}

function ledger(path: string): { version: number; name: string; applied_at: number }[] {
  return readSqliteFile(path, "SELECT version, name, applied_at FROM schema_migrations ORDER BY 1");
}

describe("the SQLite store's file", () => {
  let t: TempStore;
  beforeEach(() => {
    t = makeTempStore();
  });
  afterEach(() => t.dispose());

  it("records every migration once in a ledger, also when the file is opened again", async () => {
    const first = ledger(t.dbPath);
    assert.deepEqual(
      first.map((m) => [m.version, m.name]),
      MIGRATIONS.map((m) => [m.version, m.name]),
    );
    assert.equal(first.length, LATEST_SCHEMA_VERSION);
    await t.store.insertTasks([newTask(taskId(1))], T0);
    const second = t.another();
    assert.equal((await second.listTasks({ limit: 10 })).length, 1);
    assert.deepEqual(ledger(t.dbPath), first, "nothing applied twice");
    assert.equal(t.store.location, t.dbPath);
  });

  it("brings an older schema up to date: migration 5 drops the plan triggers of migration 4", async () => {
    const dbPath = join(t.dir, "old.db");
    const upTo4 = MIGRATIONS.filter((m) => m.version <= 4);
    writeSqliteFile(
      dbPath,
      `CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL);
       ${upTo4.map((m) => `${m.sql};\nINSERT INTO schema_migrations VALUES (${m.version}, '${m.name}', 0);`).join("\n")}`,
    );
    const triggers = () =>
      readSqliteFile<{ name: string }>(
        dbPath,
        "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name",
      ).map((r) => r.name);
    assert.ok(triggers().includes("plans_follow_tasks"));
    const store = openSqliteStore({ path: dbPath, busyTimeoutMs: 1_000 });
    await store.close();
    assert.equal(ledger(dbPath).length, LATEST_SCHEMA_VERSION);
    assert.deepEqual(triggers(), [
      "task_counts_delete",
      "task_counts_insert",
      "task_counts_update",
    ]);
  });

  it("refuses a database written by a newer orchestrate", async () => {
    writeSqliteFile(
      t.dbPath,
      `INSERT INTO schema_migrations VALUES (${LATEST_SCHEMA_VERSION + 1}, 'future', 0)`,
    );
    assertOpenRefused(t.dbPath, "store-schema-newer");
  });

  it("refuses a file that is not an SQLite database", () => {
    const bogus = join(t.dir, "bogus.db");
    writeFileSync(bogus, "this is a text file, not a database ".repeat(200));
    assertOpenRefused(bogus, "store-not-a-database");
  });

  it("refuses a location whose directory cannot be made", () => {
    const file = join(t.dir, "a-file");
    writeFileSync(file, "");
    assertOpenRefused(join(file, "tasks.db"), "store-location-unusable");
  });

  it("runs in WAL mode with foreign keys enforced (a deleted task takes its dependency edges)", async () => {
    const [journal] = readSqliteFile<{ journal_mode: string }>(t.dbPath, "PRAGMA journal_mode");
    assert.equal(journal?.journal_mode, "wal");
    await t.store.insertTasks(
      [newTask(taskId(1)), newTask(taskId(2), { dependsOn: [taskId(1)] })],
      T0,
    );
    const edges = () => readSqliteFile(t.dbPath, "SELECT * FROM task_dependencies").length;
    assert.equal(edges(), 1);
    // Only a finished task is deleted: the dependent is cancelled, then removed with its edge.
    assert.ok(await t.store.transitionTask(cancellationOf(taskId(2), T0 + 1)));
    await t.store.deleteTasks([taskId(2)], T0 + 1_000);
    assert.equal(
      edges(),
      0,
      "ON DELETE CASCADE ran: foreign keys are on in the store's connection",
    );
    assert.equal(
      readSqliteFile(t.dbPath, "SELECT * FROM tasks").length,
      1,
      "the dependency itself stays",
    );
  });

  it("reports a database locked past the busy timeout as a ConflictError store-busy", async () => {
    const impatient = t.another({ busyTimeoutMs: 50 });
    const lock = holdWriteLock(t.dbPath);
    try {
      await assert.rejects(
        impatient.insertTasks([newTask(taskId(1))], T0),
        (e: unknown) =>
          e instanceof ConflictError && e.reason === "store-busy" && e.hint === undefined,
      );
    } finally {
      lock.release();
    }
    await impatient.insertTasks([newTask(taskId(1))], T0);
    assert.equal(
      (await t.store.getTask(taskId(1)))?.status,
      "pending",
      "usable once the lock is gone",
    );
  });
});
