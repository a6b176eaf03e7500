/**
 * Pure helpers over a dependency graph given as `node -> nodes it depends on`. Used to order a batch of
 * new tasks (a plan) so every task is inserted after the tasks it waits for, and to refuse cycles with a
 * message that shows the loop.
 */

/**
 * Orders `nodes` so that each comes after its dependencies (edges to nodes outside `nodes` are ignored,
 * they already exist). Keeps the given order wherever the edges allow it. Returns the cycle instead
 * when there is one, as a path that starts and ends on the same node.
 */
export function topologicalOrder(
  nodes: readonly string[],
  dependsOn: (node: string) => readonly string[],
): { order: string[] } | { cycle: string[] } {
  const inBatch = new Set(nodes);
  const state = new Map<string, "visiting" | "done">();
  const order: string[] = [];
  const path: string[] = [];

  const visit = (node: string): string[] | null => {
    const seen = state.get(node);
    if (seen === "done") return null;
    if (seen === "visiting") return [...path.slice(path.indexOf(node)), node];
    state.set(node, "visiting");
    path.push(node);
    for (const dep of dependsOn(node)) {
      if (!inBatch.has(dep)) continue;
      const cycle = visit(dep);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, "done");
    order.push(node);
    return null;
  };

  for (const node of nodes) {
    const cycle = visit(node);
    if (cycle) return { cycle };
  }
  return { order };
}
