import { parseArgs } from "node:util";
import { closestMatch } from "../core/closestMatch.ts";
import { UsageError } from "../core/errors.ts";

/**
 * A small declarative layer over `util.parseArgs`: commands declare their arguments and options, and get
 * parsing, validation of unknown flags, help text and "did you mean" for free. We use Node's parser rather
 * than commander because every `orchestrate` invocation pays for its start-up: measured here, loading
 * commander cost 20-25 ms of a 100 ms budget for `orchestrate submit`; `parseArgs` costs nothing to load.
 */
export interface OptionSpec {
  /** Long name without dashes, kebab-case (`depends-on`); the parsed key is its camelCase form. */
  name: string;
  short?: string;
  /** Placeholder for the value (`<id>`); absent for boolean flags. */
  value?: string;
  description: string;
  default?: string;
  /** May be given several times; values are collected (and split on commas). */
  multiple?: boolean;
}

export interface ArgumentSpec {
  name: string;
  description: string;
  /** Takes every remaining word (joined by the command as it likes). */
  variadic?: boolean;
  optional?: boolean;
}

export interface ParsedCommand {
  /** Positional arguments, in declaration order; a variadic one receives an array. */
  args: Record<string, string | string[] | undefined>;
  /** Options by camelCase name: string, string[] (multiple) or boolean (flags). */
  options: Record<string, string | string[] | boolean | undefined>;
}

export interface CommandSpec {
  name: string;
  /** Extra paragraphs for `--help` after the option list. */
  details?: string;
  args: readonly ArgumentSpec[];
  options: readonly OptionSpec[];
  /** Runs the command; a number it resolves to is its exit code (a run whose tasks failed), else 0. */
  run(parsed: ParsedCommand): Promise<unknown>;
}

/**
 * A command as the program lists it: its name and summary, and a loader for the rest. Commands are
 * loaded only when used, so that `orchestrate submit` does not pay for loading `run`'s agent machinery.
 */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<CommandSpec>;
}

/** What the command line asked for: a command to run, or help or the version to print. */
export type Invocation =
  | { kind: "run"; command: CommandSpec; parsed: ParsedCommand }
  | { kind: "help"; text: string }
  | { kind: "version" };

export interface ProgramSpec {
  name: string;
  summary: string;
  globalOptions: readonly OptionSpec[];
  commands: readonly CommandEntry[];
}

const HELP: OptionSpec = { name: "help", short: "h", description: "show help for the command" };

/** Parses `argv` (without the node and script paths) against the program. Throws UsageError on bad input. */
export async function parseCommandLine(
  program: ProgramSpec,
  argv: readonly string[],
): Promise<Invocation> {
  const commandIndex = findCommandIndex(program, argv);
  const name = commandIndex >= 0 ? argv[commandIndex] : undefined;
  const rest = argv.filter((_, i) => i !== commandIndex);
  if (name === undefined || name === "help") {
    const topic = name === "help" ? rest.find((a) => !a.startsWith("-")) : undefined;
    if (topic) {
      const entry = findCommand(program, topic);
      return { kind: "help", text: commandHelp(program, entry, await entry.load()) };
    }
    if (rest.includes("-V") || rest.includes("--version")) return { kind: "version" };
    if (name === "help" || rest.length === 0 || rest.includes("-h") || rest.includes("--help")) {
      return { kind: "help", text: programHelp(program) };
    }
    parseOptions(program.globalOptions, rest, "orchestrate");
    throw new UsageError("no command given", "run 'orchestrate --help' to see the commands");
  }
  const entry = findCommand(program, name);
  const command = await entry.load();
  if (rest.includes("-h") || rest.includes("--help")) {
    return { kind: "help", text: commandHelp(program, entry, command) };
  }
  const { values, positionals } = parseOptions(
    [...program.globalOptions, ...command.options],
    rest,
    `orchestrate ${command.name}`,
  );
  return {
    kind: "run",
    command,
    parsed: { args: bindArguments(command, positionals), options: values },
  };
}

/** The index of the command word: the first word that is not an option or a global option's value. */
function findCommandIndex(program: ProgramSpec, argv: readonly string[]): number {
  const takesValue = new Set<string>();
  for (const o of program.globalOptions) {
    if (!o.value) continue;
    takesValue.add(`--${o.name}`);
    if (o.short) takesValue.add(`-${o.short}`);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--") return -1;
    if (takesValue.has(arg)) {
      i++;
      continue;
    }
    if (!arg.startsWith("-")) return i;
  }
  return -1;
}

function findCommand(program: ProgramSpec, name: string): CommandEntry {
  const command = program.commands.find((c) => c.name === name);
  if (command) return command;
  const suggestion = closestMatch(
    name,
    program.commands.map((c) => c.name),
  );
  throw new UsageError(
    `unknown command '${name}'`,
    `${suggestion ? `did you mean '${suggestion}'? ` : ""}run 'orchestrate --help' to see the commands`,
  );
}

function parseOptions(specs: readonly OptionSpec[], args: readonly string[], where: string) {
  const options: Record<
    string,
    { type: "string" | "boolean"; short?: string; multiple?: boolean }
  > = {};
  for (const spec of [...specs, HELP]) {
    const option: { type: "string" | "boolean"; short?: string; multiple?: boolean } = {
      type: spec.value ? "string" : "boolean",
    };
    if (spec.short) option.short = spec.short;
    if (spec.multiple) option.multiple = true;
    options[spec.name] = option;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw translateParseError(error as Error & { code?: string }, specs, where);
  }
  const values: ParsedCommand["options"] = {};
  for (const spec of specs) {
    const key = camelCase(spec.name);
    const raw = parsed.values[spec.name];
    if (spec.multiple && Array.isArray(raw)) {
      values[key] = raw
        .flatMap((v) => String(v).split(","))
        .map((v) => v.trim())
        .filter(Boolean);
    } else if (raw !== undefined) {
      values[key] = raw as string | boolean;
    } else if (spec.default !== undefined) {
      values[key] = spec.default;
    }
  }
  return { values, positionals: parsed.positionals };
}

function translateParseError(
  error: Error & { code?: string },
  specs: readonly OptionSpec[],
  where: string,
): Error {
  const help = `run '${where} --help' for usage`;
  if (error.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
    const flag = /'([^']+)'/.exec(error.message)?.[1] ?? "";
    const names = specs.map((s) => `--${s.name}`);
    const suggestion = flag.startsWith("--") ? closestMatch(flag, names) : undefined;
    return new UsageError(
      `unknown option '${flag}'`,
      `${suggestion ? `did you mean '${suggestion}'? ` : ""}${help}`,
    );
  }
  if (error.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
    // Node's message names the option and says whether it wanted a value or none.
    const message = error.message.replace(/\. To specify.*$/s, "").replace(/^Option /, "option ");
    return new UsageError(message.replace(/\.$/, ""), help);
  }
  return new UsageError(error.message, help);
}

function bindArguments(command: CommandSpec, positionals: string[]): ParsedCommand["args"] {
  const args: ParsedCommand["args"] = {};
  let index = 0;
  for (const spec of command.args) {
    if (spec.variadic) {
      args[spec.name] = positionals.slice(index);
      index = positionals.length;
      if ((args[spec.name] as string[]).length === 0 && !spec.optional) missing(command, spec);
      continue;
    }
    const value = positionals[index++];
    if (value === undefined && !spec.optional) missing(command, spec);
    args[spec.name] = value;
  }
  if (index < positionals.length) {
    throw new UsageError(
      `too many arguments for '${command.name}': ${positionals.slice(index).join(" ")}`,
      `quote values that contain spaces; run 'orchestrate ${command.name} --help' for usage`,
    );
  }
  return args;
}

function missing(command: CommandSpec, spec: ArgumentSpec): never {
  throw new UsageError(
    `missing argument <${spec.name}> for '${command.name}'`,
    `usage: ${usageLine(command)}`,
  );
}

function camelCase(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function usageLine(command: CommandSpec): string {
  const args = command.args.map((a) => {
    const inner = `${a.name}${a.variadic ? "..." : ""}`;
    return a.optional ? `[${inner}]` : `<${inner}>`;
  });
  return ["orchestrate", command.name, command.options.length > 0 ? "[options]" : "", ...args]
    .filter(Boolean)
    .join(" ");
}

function optionLines(specs: readonly OptionSpec[]): string[] {
  const left = specs.map(
    (o) => `${o.short ? `-${o.short}, ` : "    "}--${o.name}${o.value ? ` ${o.value}` : ""}`,
  );
  const width = Math.max(...left.map((l) => l.length), 0);
  return specs.map((o, i) => {
    const def = o.default !== undefined ? ` (default: ${o.default})` : "";
    return `  ${(left[i] ?? "").padEnd(width)}  ${o.description}${def}`;
  });
}

function commandHelp(program: ProgramSpec, entry: CommandEntry, command: CommandSpec): string {
  const lines = [`Usage: ${usageLine(command)}`, "", entry.summary];
  if (command.args.length > 0) {
    lines.push("", "Arguments:");
    const width = Math.max(...command.args.map((a) => a.name.length));
    for (const a of command.args) lines.push(`  ${a.name.padEnd(width)}  ${a.description}`);
  }
  lines.push("", "Options:", ...optionLines([...command.options, HELP]));
  lines.push("", "Global options:", ...optionLines(program.globalOptions));
  if (command.details) lines.push("", command.details.trimEnd());
  return `${lines.join("\n")}\n`;
}

function programHelp(program: ProgramSpec): string {
  const width = Math.max(...program.commands.map((c) => c.name.length));
  return `${[
    `Usage: ${program.name} <command> [options]`,
    "",
    program.summary,
    "",
    "Commands:",
    ...program.commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Global options:",
    ...optionLines([
      ...program.globalOptions,
      { name: "version", short: "V", description: "print the version" },
      { name: "help", short: "h", description: "show help (also: orchestrate <command> --help)" },
    ]),
  ].join("\n")}\n`;
}
