import { type AgentTypeInfo, BUILTIN_AGENT_TYPES, routeByKeywords } from "./agentTypes.ts";
import type { PlannedTask } from "./plan.ts";
import { type SplitPart, withoutImpliedDependencies } from "./planEdits.ts";
import { PRIORITIES } from "./priority.ts";

/**
 * The decomposer that needs no model: it recognizes the shape of a goal by whole words (a web app, an
 * API, a data pipeline, an ML project, infrastructure, an analysis, an LLM/RAG application) and builds
 * that shape's phased tasks, Design -> Implementation -> Testing (and Deployment when the goal asks for
 * it). The same goal always gives the same plan, instantly.
 */

export type GoalShape =
  | "llm-app"
  | "ml-project"
  | "data-pipeline"
  | "infrastructure"
  | "analysis"
  | "web-app"
  | "api"
  | "general";

/**
 * Whole words (or phrases) that point to each shape. A plain word counts 2, a word marked `~` counts 1
 * (it is common in other contexts: "app", "service") and one marked `!` counts 3 (it settles the shape:
 * a "CI/CD pipeline" is infrastructure, not data); the highest score wins and ties go to the earlier
 * shape. A "data model" is a schema, not a machine-learning model.
 */
const SHAPE_WORDS: readonly [GoalShape, readonly string[]][] = [
  [
    "llm-app",
    [
      "llm",
      "rag",
      "chatbot",
      "prompt",
      "prompts",
      "embeddings",
      "retrieval",
      "gpt",
      "~claude",
      "~agent",
      "~agents",
      "~assistant",
      "vector",
    ],
  ],
  [
    "ml-project",
    [
      "ml",
      "machine learning",
      "~model",
      "~models",
      "training",
      "~train",
      "classifier",
      "prediction",
      "~predict",
      "recommendation",
      "recommender",
      "forecasting",
      "forecast",
    ],
  ],
  [
    "data-pipeline",
    [
      "etl",
      "elt",
      "pipeline",
      "pipelines",
      "ingestion",
      "ingest",
      "streaming",
      "warehouse",
      "data lake",
      "~batch",
      "airflow",
      "kafka",
    ],
  ],
  [
    "infrastructure",
    [
      "aws",
      "cloud",
      "infrastructure",
      "terraform",
      "kubernetes",
      "k8s",
      "~cluster",
      "~ci",
      "~cd",
      "!ci/cd",
      "!devops",
      "iac",
    ],
  ],
  [
    "analysis",
    [
      "analysis",
      "analyze",
      "analyse",
      "~report",
      "~reports",
      "insights",
      "~metrics",
      "kpi",
      "kpis",
      "churn",
      "cohort",
      "survey",
    ],
  ],
  [
    "web-app",
    [
      "web app",
      "webapp",
      "website",
      "web site",
      "frontend",
      "front end",
      "ui",
      "react",
      "vue",
      "svelte",
      "~page",
      "~pages",
      "~dashboard",
      "~app",
      "~application",
      "full stack",
      "fullstack",
      "~site",
      "portal",
      "~store",
      "~shop",
    ],
  ],
  [
    "api",
    [
      "api",
      "apis",
      "rest",
      "graphql",
      "backend",
      "endpoint",
      "endpoints",
      "~service",
      "microservice",
      "~server",
      "grpc",
      "webhook",
    ],
  ],
];

const AUTH_WORDS = [
  "auth",
  "authentication",
  "authorization",
  "login",
  "log in",
  "sign in",
  "signup",
  "sign up",
  "oauth",
  "jwt",
  "users",
  "accounts",
];
const DEPLOY_WORDS = [
  "deploy",
  "deployed",
  "deployment",
  "production",
  "aws",
  "cloud",
  "hosting",
  "hosted",
  "kubernetes",
];

/** Which shape a goal has, by counting whole-word matches. */
export function goalShape(goal: string): GoalShape {
  const text = wordsOf(goal);
  let best: GoalShape = "general";
  let bestScore = 0;
  for (const [shape, words] of SHAPE_WORDS) {
    let score = 0;
    for (const w of words) {
      const weight = w.startsWith("~") ? 1 : w.startsWith("!") ? 3 : 2;
      if (hasWord(text, weight === 2 ? w : w.slice(1))) score += weight;
    }
    if (score > bestScore) {
      best = shape;
      bestScore = score;
    }
  }
  return best;
}

/** One templated task: an id inside the template, and ids of the template tasks it waits for. */
interface Step {
  id: string;
  phase: string;
  type: string;
  priority?: number;
  text: string;
  after?: string[];
}

const { high, low } = PRIORITIES;

function stepsFor(shape: GoalShape, goal: string, types: readonly AgentTypeInfo[]): Step[] {
  const text = wordsOf(goal);
  const auth = AUTH_WORDS.some((w) => hasWord(text, w));
  const deploy = shape !== "infrastructure" && DEPLOY_WORDS.some((w) => hasWord(text, w));
  const g = `"${goal.trim()}"`;
  const spec: Step = {
    id: "spec",
    phase: "Design",
    type: "specifications-engineer",
    priority: high,
    text: `Write the requirements for ${g}: scope, users, functional and non-functional requirements and acceptance criteria. Save them as the shared artifact requirements.md.`,
  };
  const steps: Step[] = [spec];
  switch (shape) {
    case "api":
    case "web-app": {
      steps.push({
        id: "schema",
        phase: "Design",
        type: "data-architect-governance",
        priority: high,
        text: `Design the data model and database schema (entities, keys, constraints, indexes, migrations). Save it as the shared artifact schema.sql.`,
        after: ["spec"],
      });
      steps.push({
        id: "contract",
        phase: "Design",
        type: "specifications-engineer",
        priority: high,
        text: `Write the API contract: resources, endpoints, request and response bodies, status codes and errors. Save it as the shared artifact api_spec.yaml.`,
        after: ["spec"],
      });
      if (auth) {
        steps.push({
          id: "auth",
          phase: "Implementation",
          type: "backend-systems-engineer",
          priority: high,
          text: `Implement authentication and authorization: sign-up, login, password hashing, token issue and verification, and protection of every endpoint that needs it.`,
          after: ["schema", "contract"],
        });
      }
      steps.push({
        id: "api",
        phase: "Implementation",
        type: "backend-systems-engineer",
        text: `Implement the API endpoints of the contract, with the data access for the schema, input validation and clear errors.`,
        after: ["schema", "contract", ...(auth ? ["auth"] : [])],
      });
      if (shape === "web-app") {
        steps.push({
          id: "ui",
          phase: "Implementation",
          type: "frontend-ui-engineer",
          text: `Build the user interface against the API contract: pages, components, forms with validation, loading, empty and error states, accessible markup.`,
          after: ["contract"],
        });
      }
      steps.push({
        id: "api-tests",
        phase: "Testing",
        type: "backend-systems-engineer",
        text: `Write and run automated tests for the API: every endpoint's success path, bad input${auth ? ", authentication and permission failures" : ""}; fix what fails.`,
        after: ["api"],
      });
      if (shape === "web-app") {
        steps.push({
          id: "ui-tests",
          phase: "Testing",
          type: "frontend-ui-engineer",
          text: `Write and run component and end-to-end browser tests for the user interface against the running API; fix what fails.`,
          after: ["ui", "api"],
        });
      }
      break;
    }
    case "data-pipeline":
      steps.push(
        {
          id: "schema",
          phase: "Design",
          type: "data-architect-governance",
          priority: high,
          text: `Design the source and target schemas, with data contracts, data quality rules and lineage. Save them as the shared artifact schema.sql.`,
          after: ["spec"],
        },
        {
          id: "ingest",
          phase: "Implementation",
          type: "data-pipeline-engineer",
          text: `Build the ingestion: read each source incrementally and idempotently, with retries and a record of what was loaded.`,
          after: ["schema"],
        },
        {
          id: "transform",
          phase: "Implementation",
          type: "data-pipeline-engineer",
          text: `Build the transformations from the raw data to the target schema, re-runnable for any date range.`,
          after: ["schema"],
        },
        {
          id: "orchestrate",
          phase: "Implementation",
          type: "data-pipeline-engineer",
          text: `Schedule and wire the steps together (ordering, backfills, alerts on failure) and document how to recover from a failed run.`,
          after: ["ingest", "transform"],
        },
        {
          id: "quality",
          phase: "Testing",
          type: "data-pipeline-engineer",
          text: `Add data quality checks and tests (schema, nulls, duplicates, row counts between steps) and run them on a sample.`,
          after: ["orchestrate"],
        },
      );
      break;
    case "ml-project":
      steps.push(
        {
          id: "data",
          phase: "Design",
          type: "data-pipeline-engineer",
          priority: high,
          text: `Build the dataset: collect, clean and split the data (train, validation, test) reproducibly, and document its sources and biases.`,
          after: ["spec"],
        },
        {
          id: "explore",
          phase: "Design",
          type: "data-science-analyst",
          text: `Explore the dataset: distributions, missing values, leakage risks and a simple baseline, written up as the shared artifact eda.md.`,
          after: ["data"],
        },
        {
          id: "train",
          phase: "Implementation",
          type: "ml-systems-architect",
          text: `Build the training pipeline: features, model, tracked experiments and a reproducible training command that beats the baseline.`,
          after: ["explore"],
        },
        {
          id: "serve",
          phase: "Implementation",
          type: "ml-systems-architect",
          text: `Package the trained model for inference (batch or an API), with input validation, versioning and monitoring of predictions.`,
          after: ["train"],
        },
        {
          id: "evaluate",
          phase: "Testing",
          type: "ml-systems-architect",
          text: `Evaluate the model on the held-out test set (metrics, error analysis, fairness checks) and test the inference path end to end.`,
          after: ["train", "serve"],
        },
      );
      break;
    case "infrastructure":
      steps.push(
        {
          id: "design",
          phase: "Design",
          type: "aws-cloud-architect",
          priority: high,
          text: `Design the cloud architecture: networking, compute, storage, IAM, security and a cost estimate. Save it as the shared artifact architecture.md.`,
          after: ["spec"],
        },
        {
          id: "iac",
          phase: "Implementation",
          type: "aws-cloud-architect",
          text: `Write the infrastructure as code following the architecture, least-privilege IAM and encryption by default; produce a reviewable plan, do not apply it.`,
          after: ["design"],
        },
        {
          id: "pipeline",
          phase: "Implementation",
          type: "aws-cloud-architect",
          text: `Set up CI/CD: build, test, and plan-then-apply stages with manual approval for production.`,
          after: ["design"],
        },
        {
          id: "observe",
          phase: "Implementation",
          type: "aws-cloud-architect",
          text: `Add observability: logs, metrics, dashboards and alarms with runbooks.`,
          after: ["iac"],
        },
        {
          id: "validate",
          phase: "Testing",
          type: "aws-cloud-architect",
          text: `Validate the infrastructure code: formatting, static security checks, policy tests and a dry-run plan; fix what fails.`,
          after: ["iac", "pipeline", "observe"],
        },
      );
      break;
    case "analysis":
      steps.push(
        {
          id: "data",
          phase: "Implementation",
          type: "data-pipeline-engineer",
          text: `Collect and clean the data the questions need into an analysis-ready dataset, documenting sources and every cleaning step.`,
          after: ["spec"],
        },
        {
          id: "analyze",
          phase: "Implementation",
          type: "data-science-analyst",
          text: `Do the analysis: descriptive statistics, the comparisons or models the questions need, with uncertainty stated.`,
          after: ["data"],
        },
        {
          id: "report",
          phase: "Delivery",
          type: "data-science-analyst",
          text: `Write the report: findings, charts, limitations and recommendations, as the shared artifact report.md.`,
          after: ["analyze"],
        },
        {
          id: "review",
          phase: "Testing",
          type: "data-science-analyst",
          priority: low,
          text: `Check the analysis is reproducible from raw data with one command, and that every number in the report matches the code.`,
          after: ["report"],
        },
      );
      break;
    case "llm-app":
      steps.push(
        {
          id: "corpus",
          phase: "Implementation",
          type: "data-pipeline-engineer",
          text: `Build the document ingestion: load sources, clean, chunk with overlap and keep metadata for citations.`,
          after: ["spec"],
        },
        {
          id: "retrieval",
          phase: "Implementation",
          type: "llm-architect",
          text: `Build retrieval: embeddings, a vector index and a search that returns cited passages; measure recall on sample questions.`,
          after: ["corpus"],
        },
        {
          id: "prompting",
          phase: "Implementation",
          type: "llm-architect",
          text: `Design the prompts and the generation step: grounding in retrieved passages, citations, refusals when unsure, token and cost limits.`,
          after: ["spec"],
        },
        {
          id: "service",
          phase: "Implementation",
          type: "backend-systems-engineer",
          text: `Expose the application as an API with streaming answers, rate limits and request logging.`,
          after: ["retrieval", "prompting"],
        },
        {
          id: "evaluate",
          phase: "Testing",
          type: "llm-architect",
          text: `Build an evaluation set and harness (answer quality, groundedness, latency, cost) and run it; fix what fails.`,
          after: ["service"],
        },
      );
      break;
    case "general": {
      // Routed on the same words as the shape: a "data model" is a schema here too.
      const type = routeByKeywords(wordsOf(goal), types);
      steps.push(
        {
          id: "build",
          phase: "Implementation",
          type,
          text: `Implement ${g} following the requirements, in small tested steps.`,
          after: ["spec"],
        },
        {
          id: "test",
          phase: "Testing",
          type,
          text: `Write and run automated tests for what was built; fix what fails.`,
          after: ["build"],
        },
      );
      break;
    }
  }
  const finals = steps.filter((s) => !steps.some((o) => o.after?.includes(s.id))).map((s) => s.id);
  if (deploy) {
    steps.push({
      id: "deploy",
      phase: "Deployment",
      type: "aws-cloud-architect",
      text: `Prepare the deployment: infrastructure as code, configuration and secrets handling, and a rollout and rollback procedure. Produce a reviewable plan; do not apply it to real accounts.`,
      after: finals,
    });
  }
  steps.push({
    id: "docs",
    phase: "Delivery",
    type: "specifications-engineer",
    priority: low,
    text: `Write the README: what it does, how to set it up, configure, run and test it, with examples; check every command in it works.`,
    after: deploy ? ["deploy"] : finals,
  });
  return steps;
}

/** The heuristic plan of a goal: tasks keyed t1, t2, … in phase order. */
export function heuristicPlan(
  goal: string,
  types: readonly AgentTypeInfo[] = BUILTIN_AGENT_TYPES,
): PlannedTask[] {
  const steps = stepsFor(goalShape(goal), goal, types);
  const known = new Set(types.map((t) => t.name));
  const keyOf = new Map(steps.map((s, i) => [s.id, `t${i + 1}`]));
  const tasks = steps.map((s) => ({
    key: keyOf.get(s.id) ?? s.id,
    phase: s.phase,
    description: s.text,
    // A user's agents.json may drop nothing from the built-in types, but route anyway if one is missing.
    agentType: known.has(s.type) ? s.type : routeByKeywords(s.text, types),
    priority: s.priority ?? PRIORITIES.normal,
    dependsOn: (s.after ?? []).map((id) => keyOf.get(id) ?? id),
  }));
  return withoutImpliedDependencies(tasks);
}

/**
 * The heuristic split of one task: into design, build and verify steps done by the same specialist, one
 * after another. Used when no model is available or the model's split is unusable.
 */
export function heuristicSplit(task: PlannedTask): SplitPart[] {
  const what = task.description.replace(/[.\s]+$/, "");
  return [
    {
      description: `${what} (part 1 of 3: design the approach and write down the decisions and interfaces the next parts use)`,
      agentType: task.agentType,
    },
    {
      description: `${what} (part 2 of 3: implement it following the design of part 1)`,
      agentType: task.agentType,
      after: [0],
    },
    {
      description: `${what} (part 3 of 3: write and run automated tests of parts 1 and 2; fix what fails)`,
      agentType: task.agentType,
      after: [1],
    },
  ];
}

function wordsOf(text: string): string {
  return ` ${text.toLowerCase().replace(/[^a-z0-9/+#]+/g, " ")} `.replace(
    / data models? /g,
    " schema ",
  );
}

function hasWord(text: string, word: string): boolean {
  return text.includes(` ${word} `);
}
