/**
 * A language model the planner can talk to: one request with a system prompt and a conversation, one
 * text answer. Adapters: the Anthropic Messages API, an OpenAI-compatible endpoint, a headless agent CLI.
 */
export interface Llm {
  /** What answers, for messages and the plan's record: `anthropic-api:claude-sonnet-4-5`. */
  readonly name: string;
  complete(request: LlmRequest): Promise<string>;
}

export interface LlmRequest {
  system: string;
  messages: readonly LlmMessage[];
  maxTokens?: number;
  signal?: AbortSignal;
}

export interface LlmMessage {
  role: "user" | "assistant";
  content: string;
}
