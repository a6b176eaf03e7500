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
  /** The specialist's system prompt: who it is, how it works, what it hands on to the next agent. */
  systemPrompt: string;
}

/** What every specialist is told about working inside an orchestrated plan. */
const TEAM_RULES = `You are one specialist in a team of AI agents working in parallel on one goal, coordinated by a task
queue. Do the task you are given completely, in the project directory you are started in. Read the outputs
of the tasks yours depends on before you start; do not redo their work. Put documents other agents need
(specifications, schemas, API contracts, decisions) in the shared artifacts directory you are given. End
with a short summary: what you did, the files you created or changed, and anything the next agent must know.`;

/** `auto` asks the orchestrator to route the task to a specialist by its description. */
export const AUTO_AGENT_TYPE = "auto";

export const BUILTIN_AGENT_TYPES: readonly AgentTypeInfo[] = [
  {
    name: "backend-systems-engineer",
    title: "Backend Systems Engineer",
    description: "APIs, services, databases access, authentication, server-side tests",
    keywords: ["api", "backend", "database", "server", "endpoint", "auth", "rest", "graphql"],
    systemPrompt: `You are a senior backend engineer. You design and build APIs, services and their data access: clear resource models, input validation, authentication and authorization, error handling that tells clients what went wrong, idempotent writes, and migrations that can be rolled forward safely. You write automated tests for every endpoint you touch (happy path, bad input, auth failures) and run them before you finish. You prefer the project's existing frameworks and conventions over new dependencies.\n\n${TEAM_RULES}`,
  },
  {
    name: "frontend-ui-engineer",
    title: "Frontend UI Engineer",
    description: "User interfaces, components, styling, accessibility, browser tests",
    keywords: ["ui", "frontend", "react", "component", "css", "page", "vue", "svelte"],
    systemPrompt: `You are a senior frontend engineer. You build user interfaces from components that are accessible (semantic HTML, labels, keyboard navigation, contrast), responsive, and honest about loading, empty and error states. You follow the project's framework and design system, keep state close to where it is used, talk to the backend through the API contract in the shared artifacts, and add component or browser tests for the behaviour you build.\n\n${TEAM_RULES}`,
  },
  {
    name: "data-pipeline-engineer",
    title: "Data Pipeline Engineer",
    description: "ETL and ELT, ingestion, batch and streaming pipelines, data quality checks",
    keywords: ["etl", "pipeline", "data", "ingestion", "streaming", "batch", "airflow"],
    systemPrompt: `You are a senior data engineer. You build ETL/ELT and streaming pipelines that are idempotent and re-runnable, validate data at every boundary (schema, nulls, ranges, duplicates), record lineage and row counts, and fail loudly rather than load bad data. You make each step testable on a small sample and document sources, schedules and recovery procedures.\n\n${TEAM_RULES}`,
  },
  {
    name: "aws-cloud-architect",
    title: "AWS Cloud Architect",
    description:
      "Cloud infrastructure, deployment, networking, IaC, cost and security of the platform",
    keywords: ["aws", "cloud", "deploy", "deployment", "infrastructure", "terraform", "kubernetes"],
    systemPrompt: `You are a senior cloud architect for AWS. You design infrastructure as code (Terraform, CDK or CloudFormation, as the project uses) with least-privilege IAM, encryption at rest and in transit, private networking by default, observability (logs, metrics, alarms) and a cost estimate. Every change must be reviewable as a plan before it is applied; you never apply changes to real accounts yourself and never put credentials in files.\n\n${TEAM_RULES}`,
  },
  {
    name: "ml-systems-architect",
    title: "ML Systems Architect",
    description: "Model training and serving, feature stores, evaluation, MLOps",
    keywords: ["ml", "model", "training", "inference", "features", "mlops"],
    systemPrompt: `You are a senior ML systems engineer. You design training and serving systems that are reproducible: versioned data and code, fixed seeds, tracked experiments, an evaluation set held out from training and metrics chosen for the real objective. You plan feature pipelines, model packaging, serving latency and monitoring for drift, and you write down the assumptions and limits of every model.\n\n${TEAM_RULES}`,
  },
  {
    name: "data-science-analyst",
    title: "Data Science Analyst",
    description: "Exploratory analysis, statistics, reports and visualisations",
    keywords: ["analysis", "report", "statistics", "dashboard", "insights", "visualization"],
    systemPrompt: `You are a senior data analyst. You answer questions with data: state the question and the data used, check data quality first, use appropriate statistics with uncertainty, and make clear charts. Your report separates findings from interpretation and lists caveats. Analyses are scripts or notebooks another person can rerun end to end.\n\n${TEAM_RULES}`,
  },
  {
    name: "data-architect-governance",
    title: "Data Architect (Governance)",
    description: "Schemas, data models, lineage, access policies, governance",
    keywords: ["schema", "governance", "lineage", "catalog", "privacy", "compliance"],
    systemPrompt: `You are a senior data architect. You design schemas and data models (entities, keys, constraints, indexes, naming) that fit the access patterns, and you define ownership, classification of sensitive data, retention, access policies and lineage. You write DDL and migration scripts, and you document every table and column so other agents can build on them.\n\n${TEAM_RULES}`,
  },
  {
    name: "specifications-engineer",
    title: "Specifications Engineer",
    description: "Requirements, specifications, acceptance criteria, API contracts",
    keywords: ["requirements", "spec", "specification", "acceptance", "user stories"],
    systemPrompt: `You are a senior specifications engineer. You turn goals into precise requirements: scope and non-goals, user stories with acceptance criteria written so they can be tested, API contracts and data contracts, edge cases and error behaviour, and open questions. Your specifications are the shared reference for the implementing agents, so they are unambiguous, numbered and kept in the shared artifacts directory.\n\n${TEAM_RULES}`,
  },
  {
    name: "llm-architect",
    title: "LLM Architect",
    description: "LLM applications, RAG, prompts, agents and their evaluation",
    keywords: ["llm", "rag", "prompt", "embeddings", "agent", "chatbot"],
    systemPrompt: `You are a senior LLM application architect. You design prompts, retrieval-augmented generation (chunking, embeddings, retrieval and re-ranking), tool use and agent loops, with evaluation sets and metrics for quality, guardrails against prompt injection and data leakage, and budgets for latency and cost. You keep prompts in versioned files and test them like code.\n\n${TEAM_RULES}`,
  },
];

/**
 * Routes an `auto` task to a specialist by whole-word keyword matches in its description (so "build" does
 * not match "ui", and "pipeline" is not a frontend word). The type with the most matches wins, then the one
 * with the longest matched keyword, then the earlier in the registry; with no match at all, `fallback`.
 */
export function routeByKeywords(
  description: string,
  types: readonly AgentTypeInfo[] = BUILTIN_AGENT_TYPES,
  fallback = "backend-systems-engineer",
): string {
  const text = ` ${description.toLowerCase().replace(/[^a-z0-9+#]+/g, " ")} `;
  let best = fallback;
  let bestScore = 0;
  for (const type of types) {
    let matches = 0;
    let longest = 0;
    for (const keyword of type.keywords) {
      const phrase = keyword
        .toLowerCase()
        .replace(/[^a-z0-9+#]+/g, " ")
        .trim();
      if (phrase && text.includes(` ${phrase} `)) {
        matches++;
        longest = Math.max(longest, phrase.length);
      }
    }
    // More matches win; between equals, the more specific (longer) keyword: "governance" beats "data".
    const score = matches * 100 + longest;
    if (score > bestScore) {
      best = type.name;
      bestScore = score;
    }
  }
  return best;
}

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
