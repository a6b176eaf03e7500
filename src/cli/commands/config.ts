import { describeConfig } from "../../core/config.ts";
import { type CommandEnv, flag, globalsOf } from "../commandEnv.ts";
import type { CommandSpec } from "../commandLine.ts";
import { configFrom } from "../context.ts";
import { paint, printJson, table } from "../output.ts";

/** `orchestrate config`: the effective configuration and where each value came from, secrets redacted. */
export function makeConfigCommand(env: CommandEnv): CommandSpec {
  return {
    name: "config",
    args: [],
    options: [{ name: "json", description: "print the configuration as JSON" }],
    async run(parsed) {
      const config = configFrom(globalsOf(parsed));
      const entries = describeConfig(config);
      if (flag(parsed, "json"))
        return printJson(env.output, { database: config.dbPath, settings: entries });
      const lines = table(env.output, entries, [
        { header: "SETTING", value: (e) => e.name },
        { header: "VALUE", value: (e) => e.value },
        { header: "FROM", value: (e) => e.source, style: () => "dim" },
      ]);
      env.output.out.write(
        `${lines.join("\n")}\n${paint("dim", `database: ${config.dbPath}`, env.output.out)}\n`,
      );
    },
  };
}
