import type { Workspace, Workspaces } from "../../ports/workspace.ts";

/**
 * Every agent works in the project directory itself (isolation `none`): nothing to prepare, nothing to
 * commit or merge. Parallel agents share the tree.
 */
export function makeProjectDirectoryWorkspaces(dir: string): Workspaces {
  const workspace: Workspace = {
    dir,
    record: null,
    promptNote: null,
    release: async () => ({ record: null, integration: null }),
  };
  return {
    kind: "directory",
    acquire: async () => workspace,
    recover: async () => ({ changed: [], notes: [] }),
  };
}
