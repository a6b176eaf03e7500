/**
 * The default model of API agents, in a module of its own so that the backends (loaded by every `run`)
 * do not load the provider SDK, which only the agent processes need.
 */
export const DEFAULT_ANTHROPIC_MODEL = "claude-sonnet-4-5";
