import { availableParallelism } from "node:os";

/**
 * At most this many short-lived processes run at once in one test file: tests run concurrently,
 * and starting dozens of Node.js processes together on a small machine makes each of them (and
 * the timing checks) crawl.
 */
const MAX_PROCESSES = Math.max(2, availableParallelism());
let running = 0;
const queued: (() => void)[] = [];

function acquireProcessSlot(): Promise<void> {
  if (running < MAX_PROCESSES) {
    running++;
    return Promise.resolve();
  }
  return new Promise((resolveSlot) => queued.push(resolveSlot));
}

/** Hands the slot straight to the next waiter, if any. */
function releaseProcessSlot(): void {
  const next = queued.shift();
  if (next) next();
  else running--;
}

/** Runs `work` (which starts a process and waits for its end) once one of the slots is free. */
export async function withProcessSlot<T>(work: () => Promise<T>): Promise<T> {
  await acquireProcessSlot();
  try {
    return await work();
  } finally {
    releaseProcessSlot();
  }
}
