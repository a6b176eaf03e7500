import type { TaskEvent } from "../core/task.ts";
import type { Session } from "./session.ts";

export interface FollowOptions {
  /** Start after this event id (0: from the beginning). */
  afterId?: number;
  /** How long to wait before looking again when nothing new came. */
  pollMs?: number;
  /** Events read per query. */
  batch?: number;
  /** Ends the stream. */
  signal?: AbortSignal;
}

/**
 * The event log as a stream: every event after the cursor, in order, then each new one as it is
 * written, from any process, until `signal` aborts. A reader that keeps the id of the last event it
 * saw resumes after it, losing and repeating nothing (ids only grow). Views in another process (a
 * dashboard, `logs --follow`) read the same log the runs write.
 */
export async function* followEvents(
  session: Session,
  options: FollowOptions = {},
): AsyncGenerator<TaskEvent> {
  const { pollMs = 250, batch = 500, signal } = options;
  let cursor = options.afterId ?? 0;
  while (!signal?.aborted) {
    const events = await session.queue.eventsAfter(cursor, batch);
    for (const event of events) {
      cursor = event.id;
      yield event;
      if (signal?.aborted) return;
    }
    if (events.length < batch) await sleep(pollMs, signal);
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
