import type { Workspace, Workspaces } from "../../ports/workspace.ts";

/**
 * Every agent works in the project directory itself, as before workspaces existed: nothing to prepare,
 * nothing to release. Parallel agents share the tree.
 */
export function makeProjectDirectoryWorkspaces(dir: string): Workspaces {
  const workspace: Workspace = { dir, release: async () => {} };
  return { kind: "directory", acquire: async () => workspace };
}
