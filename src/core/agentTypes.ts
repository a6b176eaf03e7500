import { closestMatch } from "./closestMatch.ts";
import { UsageError } from "./errors.ts";

/**
 * The registry of specialist agent types: the nine roles of the spec with the keywords of its routing
 * table. The agents layer adds each type's system prompt and lets users extend the registry from a
 * config file; the queue only needs the names, to refuse a task no agent could ever run.
 */
export interface AgentTypeInfo {
  name: string;
  title: string;
  description: string;
  keywords: readonly string[];
}

/** `auto` asks the orchestrator to route the task to a specialist by its description. */
export const AUTO_AGENT_TYPE = "auto";

export const BUILTIN_AGENT_TYPES: readonly AgentTypeInfo[] = [
  {
    name: "backend-systems-engineer",
    title: "Backend Systems Engineer",
    description: "APIs, services, databases access, authentication, server-side tests",
    keywords: ["api", "backend", "database", "server", "endpoint", "auth", "rest", "graphql"],
  },
  {
    name: "frontend-ui-engineer",
    title: "Frontend UI Engineer",
    description: "User interfaces, components, styling, accessibility, browser tests",
    keywords: ["ui", "frontend", "react", "component", "css", "page", "vue", "svelte"],
  },
  {
    name: "data-pipeline-engineer",
    title: "Data Pipeline Engineer",
    description: "ETL and ELT, ingestion, batch and streaming pipelines, data quality checks",
    keywords: ["etl", "pipeline", "data", "ingestion", "streaming", "batch", "airflow"],
  },
  {
    name: "aws-cloud-architect",
    title: "AWS Cloud Architect",
    description:
      "Cloud infrastructure, deployment, networking, IaC, cost and security of the platform",
    keywords: ["aws", "cloud", "deploy", "deployment", "infrastructure", "terraform", "kubernetes"],
  },
  {
    name: "ml-systems-architect",
    title: "ML Systems Architect",
    description: "Model training and serving, feature stores, evaluation, MLOps",
    keywords: ["ml", "model", "training", "inference", "features", "mlops"],
  },
  {
    name: "data-science-analyst",
    title: "Data Science Analyst",
    description: "Exploratory analysis, statistics, reports and visualisations",
    keywords: ["analysis", "report", "statistics", "dashboard", "insights", "visualization"],
  },
  {
    name: "data-architect-governance",
    title: "Data Architect (Governance)",
    description: "Schemas, data models, lineage, access policies, governance",
    keywords: ["schema", "governance", "lineage", "catalog", "privacy", "compliance"],
  },
  {
    name: "specifications-engineer",
    title: "Specifications Engineer",
    description: "Requirements, specifications, acceptance criteria, API contracts",
    keywords: ["requirements", "spec", "specification", "acceptance", "user stories"],
  },
  {
    name: "llm-architect",
    title: "LLM Architect",
    description: "LLM applications, RAG, prompts, agents and their evaluation",
    keywords: ["llm", "rag", "prompt", "embeddings", "agent", "chatbot"],
  },
];

/** Names accepted by `submit --agent`: every registered type and `auto`. */
export function agentTypeNames(types: readonly AgentTypeInfo[] = BUILTIN_AGENT_TYPES): string[] {
  return [AUTO_AGENT_TYPE, ...types.map((t) => t.name)];
}

/**
 * Validates a requested agent type. Returns `null` for `auto` (the spec stores "no type" as NULL,
 * meaning the orchestrator routes it); throws a UsageError naming the closest known type otherwise.
 */
export function resolveAgentType(
  input: string,
  types: readonly AgentTypeInfo[] = BUILTIN_AGENT_TYPES,
): string | null {
  const name = input.trim().toLowerCase();
  if (name === AUTO_AGENT_TYPE || name === "") return null;
  if (types.some((t) => t.name === name)) return name;
  const names = agentTypeNames(types);
  const suggestion = closestMatch(name, names);
  throw new UsageError(
    `unknown agent type '${input}'`,
    (suggestion ? `did you mean '${suggestion}'? ` : "") +
      `Known types: ${names.join(", ")}. Run 'orchestrate submit --help' for details.`,
  );
}
