import { withSession } from "../../app/session.ts";
import { readTaskDetail, type TaskDetail } from "../../app/taskDetail.ts";
import { formatDuration } from "../../core/duration.ts";
import { NotFoundError, UsageError } from "../../core/errors.ts";
import { shortId } from "../../core/ids.ts";
import { priorityName } from "../../core/priority.ts";
import type { DependencyInfo } from "../../core/task.ts";
import type { TaskWorkspace } from "../../core/taskWorkspace.ts";
import { type CommandEnv, flag, globalsOf, requiredOption } from "../commandEnv.ts";
import type { CommandSpec } from "../commandLine.ts";
import { configFrom } from "../context.ts";
import { formatTime, paint, printJson, statusStyle } from "../output.ts";

/** `orchestrate task <id>`: everything about one task. */
export function makeTaskCommand(env: CommandEnv): CommandSpec {
  return {
    name: "task",
    args: [{ name: "id", description: "task id or a unique prefix of it" }],
    options: [
      {
        name: "events",
        value: "<n>",
        description: "how many of the latest events to show",
        default: "50",
      },
      { name: "json", description: "print the task as JSON" },
    ],
    async run(parsed) {
      const ref = String(parsed.args["id"]);
      const eventsText = requiredOption(parsed, "events");
      const eventLimit = Number(eventsText);
      if (!/^\d+$/.test(eventsText) || eventLimit > 10_000) {
        throw new UsageError(
          `invalid --events '${eventsText}'`,
          "give a whole number from 0 to 10000",
        );
      }
      const config = configFrom(globalsOf(parsed));
      const detail = await withSession(config, { create: false }, async (session) => {
        if (!session)
          throw new NotFoundError(
            `no task matches '${ref}'`,
            `there is no queue at ${config.dbPath} yet`,
          );
        return readTaskDetail(session, ref, { events: eventLimit });
      });
      if (flag(parsed, "json")) return printJson(env.output, detail);
      env.output.out.write(render(detail, env));
    },
  };
}

function render(t: TaskDetail, env: CommandEnv): string {
  const out = env.output.out;
  const now = env.now();
  const bold = (s: string) => paint("bold", s, out);
  const status = t.status.replace("_", " ");
  const lines: string[] = [];
  lines.push(`${bold("Task")} ${t.id}  ${paint(statusStyle(t.status) ?? "reset", status, out)}`);
  lines.push(`  ${t.description.split("\n").join("\n  ")}`, "");
  const field = (name: string, value: string) =>
    lines.push(`  ${paint("dim", name.padEnd(12), out)}${value}`);
  field("agent", t.agentType ?? "auto");
  field("priority", `${priorityName(t.priority)} (${t.priority})`);
  field("attempts", `${t.attempts} of ${t.maxAttempts}`);
  field("timeout", t.timeoutMs === null ? "runner default" : formatDuration(t.timeoutMs));
  if (t.plan) {
    field(
      "plan",
      `${t.plan.id} (${t.plan.status})${t.plan.key ? `, task ${t.plan.key}` : ""}: ${t.plan.goal.split("\n")[0]}`,
    );
  } else if (t.planId) field("plan", t.planId);
  if (t.backend) field("backend", t.backend);
  field("created", formatTime(t.createdAt));
  if (t.assignedAt)
    field("assigned", `${formatTime(t.assignedAt)}${t.assignedTo ? ` to ${t.assignedTo}` : ""}`);
  if (t.startedAt) field("started", formatTime(t.startedAt));
  if (t.completedAt) field("finished", formatTime(t.completedAt));
  if (t.leaseExpiresAt && (t.status === "assigned" || t.status === "in_progress")) {
    const left = t.leaseExpiresAt - now;
    field(
      "lease",
      left >= 0 ? `expires in ${formatDuration(left)}` : `expired ${formatDuration(-left)} ago`,
    );
  }
  if (t.status === "pending" && t.runAfter > now)
    field("retry in", formatDuration(t.runAfter - now));
  if (t.costUsd !== null) field("cost", `$${t.costUsd.toFixed(4)}`);
  if (t.inputTokens !== null || t.outputTokens !== null) {
    field("tokens", `${t.inputTokens ?? 0} in, ${t.outputTokens ?? 0} out`);
  }
  if (t.sessionId) field("session", t.sessionId);
  if (t.context) field("context", JSON.stringify(t.context));

  const deps = (title: string, list: DependencyInfo[]) => {
    lines.push("", bold(title));
    if (list.length === 0) lines.push(paint("dim", "  none", out));
    for (const d of list) {
      lines.push(
        `  ${shortId(d.id)}  ${paint(statusStyle(d.status) ?? "reset", d.status.replace("_", " ").padEnd(11), out)}  ${d.description.split("\n")[0]}`,
      );
    }
  };
  if (t.workspace) {
    const ws = t.workspace;
    lines.push("", bold("Workspace"));
    const wfield = (name: string, value: string) =>
      lines.push(`  ${paint("dim", name.padEnd(12), out)}${value}`);
    wfield("branch", ws.branch);
    wfield("base", ws.baseCommit.slice(0, 12));
    if (ws.startCommit && ws.startCommit !== ws.baseCommit) {
      wfield("started at", `${ws.startCommit.slice(0, 12)} (base with its dependencies merged)`);
    }
    if (ws.headCommit) wfield("head", ws.headCommit.slice(0, 12));
    wfield("merge", mergeText(ws));
    if (ws.filesChanged.length > 0) {
      const shown = ws.filesChanged.slice(0, 20).join(", ");
      wfield(
        "changed",
        `${ws.filesChanged.length} file(s): ${shown}${ws.filesChanged.length > 20 ? ", ..." : ""}`,
      );
    }
    wfield("worktree", ws.path ?? "removed (the branch keeps the work)");
    if (ws.verifyLog && t.status !== "completed") {
      wfield("verify", ws.verifyLog.split("\n").slice(-3).join(" / "));
    }
  }
  deps("Depends on", t.dependencies);
  deps("Needed by", t.dependents);

  if (t.agentRuns.length > 0) {
    lines.push("", bold("Agent runs"));
    for (const run of t.agentRuns) {
      const ended =
        run.endedAt === null
          ? "running"
          : `${run.endReason ?? "ended"}, exit ${run.exitCode ?? "-"}`;
      lines.push(
        `  ${run.id}  ${run.backend}  pid ${run.pid ?? "-"}  ${formatTime(run.startedAt)}  ${ended}`,
      );
    }
  }

  lines.push("", bold("Events"));
  if (t.events.length === 0) lines.push(paint("dim", "  none", out));
  for (const e of t.events) {
    const data = e.data ? ` ${JSON.stringify(e.data)}` : "";
    lines.push(
      `  ${formatTime(e.at)}  ${e.kind.padEnd(22)}${e.workerId ? ` ${e.workerId}` : ""}${paint("dim", data, out)}`,
    );
  }
  if (t.error) lines.push("", bold("Error"), `  ${t.error.split("\n").join("\n  ")}`);
  if (t.output) lines.push("", bold("Output"), t.output);
  return `${lines.join("\n")}\n`;
}

function mergeText(ws: TaskWorkspace): string {
  switch (ws.merge) {
    case "merged":
      return `merged into orchestrate/${ws.group}/integration`;
    case "conflict":
      return `conflict with the integration branch; resolver task ${ws.resolverTaskId?.slice(0, 8) ?? "?"}`;
    case "none":
      return "not merged on its own (it resolves a dependent's starting tree)";
    default:
      return "not merged yet";
  }
}
