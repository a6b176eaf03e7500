import { loadAgentConfig } from "../core/agentConfig.ts";
import { type Config, readDotEnv } from "../core/config.ts";
import { Decomposer } from "../core/decomposer.ts";
import { selectLlm } from "./selectLlm.ts";

/**
 * The decomposer a planning command uses: the model `planner` names (`auto` takes the first configured;
 * `heuristic` none), with its settings read from `.env` too (the environment winning), and the agent
 * types agents.json declares.
 */
export async function makeDecomposer(
  config: Config,
  planner: string,
  cwd: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Decomposer> {
  const agentConfig = loadAgentConfig(config.baseDir);
  const llmEnv: NodeJS.ProcessEnv = { ...readDotEnv(cwd), ...env };
  if (config.anthropicApiKey) llmEnv["ANTHROPIC_API_KEY"] = config.anthropicApiKey;
  const llm = await selectLlm(planner, llmEnv, cwd);
  return new Decomposer(llm, agentConfig.types);
}
