import { emptyQueueStatus, type QueueStatus, readQueueStatus } from "../../app/queueStatus.ts";
import { withSession } from "../../app/session.ts";
import { formatDuration } from "../../core/duration.ts";
import { UsageError } from "../../core/errors.ts";
import { shortId } from "../../core/ids.ts";
import { priorityName } from "../../core/priority.ts";
import { TASK_STATUSES } from "../../core/taskStatus.ts";
import { type CommandEnv, flag, globalsOf, requiredOption } from "../commandEnv.ts";
import type { CommandSpec } from "../commandLine.ts";
import { configFrom } from "../context.ts";
import { formatAge, paint, printJson, statusStyle, table } from "../output.ts";

/** `orchestrate status`: counts per status, blocked tasks, recent tasks, running agents. */
export function makeStatusCommand(env: CommandEnv): CommandSpec {
  return {
    name: "status",
    args: [],
    options: [
      { name: "watch", short: "w", description: "refresh in place until Ctrl-C" },
      {
        name: "interval",
        short: "i",
        value: "<seconds>",
        description: "refresh interval for --watch",
        default: "2",
      },
      {
        name: "limit",
        short: "n",
        value: "<n>",
        description: "how many recent tasks to show",
        default: "10",
      },
      {
        name: "json",
        description: "print the status as JSON (with --watch: one line per refresh)",
      },
    ],
    async run(parsed) {
      const limitText = requiredOption(parsed, "limit");
      const limit = Number(limitText);
      if (!/^\d+$/.test(limitText) || limit > 1000) {
        throw new UsageError(
          `invalid --limit '${limitText}'`,
          "give a whole number from 0 to 1000",
        );
      }
      const intervalText = requiredOption(parsed, "interval");
      const interval = Number(intervalText);
      if (!(interval >= 0.2 && interval <= 3600)) {
        throw new UsageError(
          `invalid --interval '${intervalText}'`,
          "give a number of seconds from 0.2 to 3600",
        );
      }
      const json = flag(parsed, "json");
      const config = configFrom(globalsOf(parsed));
      const snapshot = () =>
        withSession(config, { create: false }, async (session) =>
          session ? readQueueStatus(session, { recent: limit, blocked: 10 }) : null,
        );
      if (!flag(parsed, "watch")) {
        const status = await snapshot();
        if (json)
          return printJson(env.output, {
            database: config.dbPath,
            ...(status ?? emptyQueueStatus()),
          });
        env.output.out.write(render(status, config.dbPath, env));
        return;
      }
      await watch(env, interval * 1000, async () => {
        const status = await snapshot();
        if (json)
          return JSON.stringify({ database: config.dbPath, ...(status ?? emptyQueueStatus()) });
        return render(status, config.dbPath, env);
      });
    },
  };
}

/**
 * Redraws `frame()` every `intervalMs` until SIGINT. On a terminal each frame replaces the previous one
 * (cursor home, clear to end); otherwise frames are appended, one after another.
 */
async function watch(
  env: CommandEnv,
  intervalMs: number,
  frame: () => Promise<string>,
): Promise<void> {
  const tty = Boolean(env.output.out.isTTY);
  if (tty) env.output.out.write("\x1b[?25l\x1b[2J");
  let stopped = false;
  let wake: () => void = () => {};
  const onSignal = () => {
    stopped = true;
    wake();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    while (!stopped) {
      const text = await frame();
      const stamp = paint(
        "dim",
        `every ${formatDuration(intervalMs)} · ${new Date(env.now()).toLocaleTimeString()} · Ctrl-C to stop`,
        env.output.out,
      );
      env.output.out.write(tty ? `\x1b[H${text}\n${stamp}\x1b[J` : `${text}\n`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, intervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    if (tty) env.output.out.write("\x1b[?25h\n");
  }
}

function render(status: QueueStatus | null, dbPath: string, env: CommandEnv): string {
  const out = env.output.out;
  const now = env.now();
  if (!status) {
    return `No queue yet at ${dbPath}\nSubmit a task to create it: orchestrate submit "Describe the work"\n`;
  }
  const lines: string[] = [];
  const heading = (text: string) => paint("bold", text, out);
  lines.push(
    `${heading("Queue")} ${dbPath} · ${status.total} task${status.total === 1 ? "" : "s"}`,
  );
  const counts = TASK_STATUSES.map((s) => {
    const n = status.counts[s];
    const label = `${s.replace("_", " ")} ${n}`;
    const text =
      s === "pending" && status.blocked.count > 0
        ? `${label} (${status.blocked.count} blocked)`
        : label;
    const style = n > 0 ? statusStyle(s) : "dim";
    return style ? paint(style, text, out) : text;
  });
  lines.push(`  ${counts.join("   ")}`);
  const b = status.branches;
  if (b.total > 0) {
    const parts = [
      paint(b.merged > 0 ? "green" : "dim", `merged ${b.merged}`, out),
      paint(b.pending > 0 ? "yellow" : "dim", `not merged yet ${b.pending}`, out),
      paint(b.conflict > 0 ? "red" : "dim", `in conflict ${b.conflict}`, out),
    ];
    lines.push(
      `  ${paint("dim", "branches", out)}  ${parts.join("   ")}   ${paint("dim", "(orchestrate worktrees)", out)}`,
    );
  }

  if (status.blocked.count > 0) {
    lines.push("", heading(`Blocked by dependencies (${status.blocked.count})`));
    lines.push(
      ...table(env.output, status.blocked.tasks, [
        { header: "ID", value: (t) => shortId(t.id) },
        {
          header: "WAITING ON",
          value: (t) =>
            t.waitingOn
              .slice(0, 3)
              .map((d) => `${shortId(d.id)} ${d.status.replace("_", " ")}`)
              .join(", ") + (t.waitingOn.length > 3 ? ", …" : ""),
          style: (t) =>
            t.waitingOn.some((d) => d.status === "failed" || d.status === "cancelled")
              ? "red"
              : undefined,
        },
        { header: "DESCRIPTION", value: (t) => t.description, flex: true },
      ]),
    );
    if (status.blocked.count > status.blocked.tasks.length) {
      lines.push(
        paint("dim", `  … and ${status.blocked.count - status.blocked.tasks.length} more`, out),
      );
    }
  }

  const activePlans = status.plans;
  if (activePlans.length > 0) {
    lines.push("", heading("Plans"));
    lines.push(
      ...table(env.output, activePlans, [
        { header: "ID", value: (p) => shortId(p.id) },
        { header: "STATUS", value: (p) => p.status, style: (p) => statusStyle(p.status) },
        {
          header: "DONE",
          value: (p) => `${p.queued["completed"] ?? 0}/${p.taskCount}`,
        },
        { header: "GOAL", value: (p) => p.goal, flex: true },
      ]),
    );
  }

  lines.push("", heading("Recent tasks"));
  if (status.recent.length === 0) lines.push(paint("dim", "  none", out));
  else
    lines.push(
      ...table(env.output, status.recent, [
        { header: "ID", value: (t) => shortId(t.id) },
        {
          header: "STATUS",
          value: (t) => t.status.replace("_", " "),
          style: (t) => statusStyle(t.status),
        },
        { header: "PRIORITY", value: (t) => priorityName(t.priority) },
        { header: "AGENT", value: (t) => t.agentType ?? "auto" },
        { header: "PLAN", value: (t) => (t.planId ? shortId(t.planId) : "-") },
        { header: "AGE", value: (t) => formatAge(t.createdAt, now) },
        { header: "DESCRIPTION", value: (t) => t.description, flex: true },
      ]),
    );

  lines.push("", heading("Running agents"));
  if (status.agents.length === 0) lines.push(paint("dim", "  none", out));
  else
    lines.push(
      ...table(env.output, status.agents, [
        { header: "AGENT", value: (a) => a.id },
        { header: "TASK", value: (a) => shortId(a.taskId) },
        { header: "TYPE", value: (a) => a.agentType ?? "auto" },
        { header: "BACKEND", value: (a) => a.backend },
        { header: "PID", value: (a) => (a.pid === null ? "-" : String(a.pid)) },
        { header: "HOST", value: (a) => a.host },
        { header: "ELAPSED", value: (a) => formatDuration(now - a.startedAt) },
      ]),
    );
  return `${lines.join("\n")}\n`;
}
