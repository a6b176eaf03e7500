#!/usr/bin/env node
// The entry point. Written in plain, old JavaScript on purpose: it must run on any Node.js to say which
// version orchestrate needs, instead of failing with a syntax error deep inside the program.
var REQUIRED = [24, 15];
var parts = process.versions.node.split(".").map(Number);
if (parts[0] < REQUIRED[0] || (parts[0] === REQUIRED[0] && parts[1] < REQUIRED[1])) {
  process.stderr.write(
    "error: orchestrate needs Node.js " +
      REQUIRED.join(".") +
      " or newer; this is Node.js " +
      process.versions.node +
      "\n" +
      "hint: install Node.js 24 LTS (https://nodejs.org, or: nvm install 24), or run it once with: npx -p node@24 -p um-agent-orchestration orchestrate\n",
  );
  process.exit(5);
}
// Cache V8's compiled code between runs (Node >= 22.1, so always here): commands are short, and
// compiling the program anew on every start measured 1-3 ms of a 48 ms `status`.
process.getBuiltinModule("node:module").enableCompileCache();
process.stdout.on("error", (error) => {
  if (error && error.code === "EPIPE") process.exit(0);
});
import("../dist/cli/main.js").then(
  (m) =>
    m.main(process.argv).then((code) => {
      process.exitCode = code;
    }),
  (error) => {
    if (
      error &&
      error.code === "ERR_MODULE_NOT_FOUND" &&
      String(error.message).indexOf("dist") >= 0
    ) {
      process.stderr.write(
        "error: orchestrate is not built (dist/ is missing)\nhint: run 'npm run build' in the package directory\n",
      );
      process.exit(1);
    }
    throw error;
  },
);
