import type { Store } from "../../src/ports/store.ts";

/** Wraps one Store method: gets the original (bound to the store) and the call's arguments. */
export type StoreHook = (
  original: (...args: unknown[]) => Promise<unknown>,
  args: unknown[],
) => Promise<unknown>;

/**
 * The store with some of its methods wrapped, for injecting what another terminal, a slow database or
 * a crash would do at one exact point. Every other method is the store's own (bound to it, so adapters'
 * private fields keep working).
 */
export function interceptStore(
  store: Store,
  hooks: Partial<Record<keyof Store, StoreHook>>,
): Store {
  return new Proxy(store, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof value !== "function") return value;
      const original = (value as (...args: unknown[]) => Promise<unknown>).bind(target);
      const hook = hooks[key as keyof Store];
      return hook ? (...args: unknown[]) => hook(original, args) : original;
    },
  });
}
