import type { KillTree } from "../../core/agentSpawner.ts";
import { killProcessTree } from "./killTree.ts";
import { findEnvValues } from "./processTable.ts";

/** Adapts the process adapter to the spawner's KillTree. */
export const killTree: KillTree = async (target, graceMs) => {
  // The clean-up after an agent ended (no root pid): one scan of /proc serves every agent that ends
  // within a quarter second, and the full tree walk runs only when something is left. Anything started
  // after the scan is still ended by the watchdog's last look when the run stops.
  if (target.rootPid === undefined && !hasMarkedProcess(target.marker)) return;
  const options: Parameters<typeof killProcessTree>[0] = { env: target.marker, graceMs };
  if (target.rootPid) options.rootPid = target.rootPid;
  await killProcessTree(options);
};

let markerScan: { at: number; name: string; values: Map<number, string> } | null = null;

function hasMarkedProcess(marker: { name: string; value: string }): boolean {
  const now = Date.now();
  if (!markerScan || markerScan.name !== marker.name || now - markerScan.at > 250) {
    markerScan = { at: now, name: marker.name, values: findEnvValues(marker.name) };
  }
  for (const value of markerScan.values.values()) if (value === marker.value) return true;
  return false;
}
