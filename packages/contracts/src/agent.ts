import { z } from 'zod';
import { Channel, Id, IsoDate, Usage } from './common.js';
import { HttpTools, McpServers } from './agent-tools.js';
import { storable, storableJson } from './text.js';

/** PAUSED: the run waits for a person's decision on a tool call (approval); it holds no worker, lease or lock meanwhile. */
export const RunStatus = z.enum(['PENDING', 'RUNNING', 'PAUSED', 'SUCCEEDED', 'FAILED', 'CANCELLED']);
export type RunStatus = z.infer<typeof RunStatus>;

export const DoubleTextingPolicy = z.enum(['enqueue', 'reject', 'interrupt']);
export type DoubleTextingPolicy = z.infer<typeof DoubleTextingPolicy>;

/**
 * JSON Schema keyword (set with zod's `.meta`) on a flow input field that a program fills in and a person
 * never types, e.g. the chat flow's `messageId`: generated forms leave it out.
 */
export const INTERNAL_FIELD = 'x-parley-internal';

/**
 * Input of the `chat` flow; other flows declare their own input schema in the flow registry. Every flow input
 * field carries a `title` and `description` (zod `.meta`), which label the form generated from its JSON Schema.
 */
export const ChatInput = z.object({
  text: storable(z.string().min(1).max(32_000)).meta({ title: 'Message', description: 'What the user says to the agent.' }),
  /** The client's message id: saving the user message is idempotent by it. */
  messageId: Id.optional().meta({ description: "The client's id of the message, for idempotent saves.", [INTERNAL_FIELD]: true }),
});
export type ChatInput = z.infer<typeof ChatInput>;

/** Where a run's outcome is announced when it ends, besides the caller's reply (which may be gone). */
export const RunNotify = z.object({
  /** Gets `channel.webhook.deliver` when the run ends; the gateway checked it against its allow-list. */
  webhook: z.string().url().max(2048).optional(),
});
export type RunNotify = z.infer<typeof RunNotify>;

export const AgentRun = z.object({
  runId: Id,
  /** Defaults to the tenant's default agent. */
  agentId: Id.optional(),
  /** Defaults to the agent's flow (usually `chat`). */
  flow: storable(z.string().min(1).max(64)).optional(),
  conversationId: Id.optional(),
  /** Validated against the flow's input schema by agent-execution; stored as jsonb, so storable throughout. */
  input: storableJson(z.record(z.string(), z.unknown())),
  channel: Channel,
  /** Optional so that runs queued before this field existed still parse. */
  notify: RunNotify.optional(),
});
export type AgentRun = z.infer<typeof AgentRun>;

/** `ref` on `internal`: the reference the failure was logged under (ErrorBody.ref). */
export const RunError = z.object({ code: z.string(), message: z.string(), ref: z.string().max(64).optional() });

export const RunResult = z.object({
  runId: Id,
  status: RunStatus,
  conversationId: Id.nullable(),
  output: z.unknown().optional(),
  /** The assistant's final text, for conversational flows. */
  text: z.string().optional(),
  messageId: Id.optional(),
  usage: Usage.optional(),
  error: RunError.optional(),
});
export type RunResult = z.infer<typeof RunResult>;

/** Streamed run events. `seq` starts at 1 and has no gaps within a run. */
export const RunStepKind = z.enum(['log', 'tool_call', 'tool_result']);
const runBase = { runId: Id, seq: z.number().int().positive(), at: z.number().int() };
export const RunEvent = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('run.started'),
    ...runBase,
    agentId: z.string(),
    /** The agent version the run runs with (agent.list_agent_versions reads its spec back). Optional: older events lack it. */
    agentVersion: z.number().int().positive().optional(),
    flow: z.string(),
    conversationId: z.string().nullable(),
  }),
  z.object({ type: z.literal('run.token'), ...runBase, delta: z.string() }),
  z.object({
    type: z.literal('run.step'),
    ...runBase,
    kind: RunStepKind,
    name: z.string(),
    data: z.unknown().optional(),
    progress: z.number().min(0).max(100).optional(),
  }),
  z.object({
    type: z.literal('run.completed'),
    ...runBase,
    output: z.unknown().optional(),
    text: z.string().optional(),
    messageId: z.string().optional(),
    usage: Usage,
  }),
  z.object({
    type: z.literal('run.failed'),
    ...runBase,
    status: z.enum(['FAILED', 'CANCELLED']),
    code: z.string(),
    message: z.string(),
    ref: z.string().max(64).optional(),
  }),
]);
export type RunEvent = z.infer<typeof RunEvent>;
export const TERMINAL_RUN_EVENTS = ['run.completed', 'run.failed'] as const;

/**
 * A `run.step` event as kept with a finished run's record (the event log is a cache that expires), so its
 * steps replay for good. Bounded by agent-execution: see its README (steps kept per run, data size per step).
 */
export const StoredRunStep = z.object({
  seq: z.number().int().positive(),
  at: z.number().int(),
  kind: RunStepKind,
  name: z.string(),
  data: z.unknown().optional(),
  progress: z.number().min(0).max(100).optional(),
});
export type StoredRunStep = z.infer<typeof StoredRunStep>;

export const AgentCancel = z.object({ runId: Id });
export const AgentCancelReply = z.object({ runId: Id, cancelled: z.boolean() });

/** A tool call a paused run waits on (the `approval_requested` step says the same). */
export const PendingApproval = z.object({
  /** The model's tool call id: unique within the run. */
  approvalId: z.string(),
  tool: z.string(),
  args: z.unknown(),
  approver: z.enum(['user', 'operator']),
  requestedAt: IsoDate,
  /** The run fails with `approval_timeout` when no decision came by then. */
  expiresAt: IsoDate,
});
export type PendingApproval = z.infer<typeof PendingApproval>;

export const ApprovalDecision = z.enum(['approve', 'edit', 'reject']);
export type ApprovalDecision = z.infer<typeof ApprovalDecision>;

/** A decision on a paused run's tool call (WS `approval.decide`, REST `POST /runs/:id/approval`). */
export const DecideApprovalBody = z.object({
  approvalId: storable(z.string().min(1).max(128)),
  decision: ApprovalDecision,
  /** `edit`: the arguments the tool runs with instead, checked against the tool's schema. */
  args: storableJson(z.record(z.string(), z.unknown())).optional(),
  /** `reject`: why, told to the model with the refusal. */
  reason: storable(z.string().max(2_000)).optional(),
});
export type DecideApprovalBody = z.infer<typeof DecideApprovalBody>;
export const DecideApproval = DecideApprovalBody.extend({ runId: Id });
export type DecideApproval = z.infer<typeof DecideApproval>;
export const DecideApprovalReply = z.object({ runId: Id, status: RunStatus });
/** Continues a paused run whose decision (or timeout) is recorded; any replica takes it. */
export const ResumeRun = z.object({ runId: Id });

export const RunRecord = z.object({
  runId: Id,
  agentId: z.string(),
  /** The agent version the run ran with; null for runs recorded before versions were. Optional: older replies lack it. */
  agentVersion: z.number().int().positive().nullable().optional(),
  flow: z.string(),
  conversationId: z.string().nullable(),
  channel: Channel,
  /** Who started it (the action's userId; a contact for channel `chatwoot`); null when not recorded. Optional: older replies lack it. */
  ownerId: z.string().nullable().optional(),
  status: RunStatus,
  input: z.unknown(),
  output: z.unknown().nullable(),
  error: RunError.nullable(),
  usage: Usage.nullable(),
  createdAt: IsoDate,
  startedAt: IsoDate.nullable(),
  finishedAt: IsoDate.nullable(),
  /** A finished run's `run.step` events, in seq order (bounded; `stepsOmitted` counts those not kept). Optional: absent before runs kept them. */
  steps: z.array(StoredRunStep).optional(),
  stepsOmitted: z.number().int().min(0).optional(),
  /** A succeeded run's final text and answer message id, as its run.completed said them. */
  text: z.string().nullable().optional(),
  messageId: z.string().nullable().optional(),
  /** The seq of the run's terminal event, so a replay from the record numbers it as the log did. */
  endSeq: z.number().int().positive().nullable().optional(),
  /** PAUSED: the tool call it waits on. */
  approval: PendingApproval.nullable().optional(),
});
export type RunRecord = z.infer<typeof RunRecord>;
export const GetRun = z.object({ runId: Id });

/** What `agent.run` would admit, checked before a run exists (REST answers 400/404/409 instead of a 202 that fails). */
export const ValidateRun = AgentRun.pick({ agentId: true, flow: true, conversationId: true, input: true });
export const ValidateRunReply = z.object({ agentId: z.string(), flow: z.string() });
export const ListRuns = z.object({
  conversationId: Id.optional(),
  status: RunStatus.optional(),
  flow: storable(z.string().min(1).max(64)).optional(),
  agentId: Id.optional(),
  /**
   * Only this owner's runs: the gateway sets it for a caller who is not staff. A run's owner is its owner_id, a
   * channel contact for `chatwoot` runs and a user for the others (as the gateway's runOwner reads it).
   */
  owner: z.object({ kind: z.enum(['user', 'contact']), id: Id }).optional(),
  cursor: storable(z.string().max(512)).optional(),
  limit: z.number().int().min(1).max(100).default(20),
});
export const ListRunsReply = z.object({ items: z.array(RunRecord), nextCursor: z.string().nullable() });

export const FlowInfo = z.object({
  name: z.string(),
  description: z.string(),
  /** JSON Schema of the flow's input, for generated forms. */
  inputSchema: z.record(z.string(), z.unknown()),
  /** none: never touches a conversation; read: reads the run's conversation; write: also adds to it. Optional: older agent-execution omits it. */
  conversation: z.enum(['none', 'read', 'write']).optional(),
  /** The run cannot start without a conversation (a form must offer to pick one). */
  requiresConversation: z.boolean().optional(),
});
export type FlowInfo = z.infer<typeof FlowInfo>;
export const ListFlowsReply = z.object({ flows: z.array(FlowInfo) });

/**
 * What an operator configures on an agent. Every change is a new immutable version of this spec, stored whole (a
 * field added here needs no migration: the store fills it with its default when it reads an older version). No
 * field has a zod default here, so `UpdateAgent` (the partial) never fills in a field the caller left out.
 */
export const AgentSpec = z.object({
  name: storable(z.string().min(1).max(128)),
  systemPrompt: storable(z.string().max(32_000)),
  /** Said by the agent when a new conversation opens (the `welcome` frame); empty: no greeting. */
  greeting: storable(z.string().max(2_000)),
  model: storable(z.string().min(1).max(128)),
  temperature: z.number().min(0).max(2),
  tools: z.array(storable(z.string().max(64))).max(32),
  flow: storable(z.string().min(1).max(64)),
  doubleTexting: DoubleTextingPolicy,
  maxRunMs: z.number().int().min(1_000).max(3_600_000),
  /** MCP servers whose tools the agent may use (agent-tools.ts). Optional: callers that predate it send none; stored specs read as []. */
  mcpServers: McpServers.optional(),
  /** HTTP endpoints offered to the model as tools (agent-tools.ts). Optional like mcpServers. */
  httpTools: HttpTools.optional(),
  /**
   * Tools (by the name the model sees: a built-in, `server__tool` of an MCP server, an HTTP tool) whose calls wait
   * for a person's approval before they run. Optional: stored specs read as [].
   */
  requiresApproval: z
    .array(storable(z.string().min(1).max(64)))
    .max(64)
    .optional(),
  /** Who decides on those calls: the run's user (default) or the tenant's staff (operator, admin). */
  approver: z.enum(['user', 'operator']).optional(),
});
export type AgentSpec = z.infer<typeof AgentSpec>;

export const AgentConfig = AgentSpec.extend({
  agentId: Id,
  /** The current version: 1 on creation, +1 on every update or rollback. */
  version: z.number().int().positive(),
  isDefault: z.boolean(),
  /** An archived agent keeps its history and versions but starts no new runs. */
  archived: z.boolean(),
  updatedAt: IsoDate,
});
export type AgentConfig = z.infer<typeof AgentConfig>;
export const ListAgentsReply = z.object({ agents: z.array(AgentConfig) });
export const UpdateAgent = AgentSpec.partial().extend({ agentId: Id });
export type UpdateAgent = z.infer<typeof UpdateAgent>;

/** One stored version of an agent's spec. */
export const AgentVersion = z.object({
  agentId: Id,
  version: z.number().int().positive(),
  spec: AgentSpec,
  /** The userId of the action that made it; null for versions the platform made (the default agent). */
  createdBy: z.string().nullable(),
  createdAt: IsoDate,
});
export type AgentVersion = z.infer<typeof AgentVersion>;

/**
 * An agent id an operator chooses ("support", "sales"): a ClientId (letters, digits, `.`, `_`, `-`), so it is a key part
 * as it is and never spells a separator. Ids made before this rule are still read through `Id`.
 */
export const AgentId = storable(
  z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9._-]+$/, 'may contain only letters, digits, ".", "_" and "-"'),
);
export const CreateAgent = AgentSpec.extend({ agentId: AgentId });
export type CreateAgent = z.infer<typeof CreateAgent>;
export const GetAgent = z.object({ agentId: Id });
export const ArchiveAgent = z.object({ agentId: Id, archived: z.boolean() });
export const RollbackAgent = z.object({ agentId: Id, version: z.number().int().positive() });
export const ListAgentVersions = z.object({ agentId: Id });
export const ListAgentVersionsReply = z.object({ versions: z.array(AgentVersion) });

/** A tool an agent can be given, for the operator's checklist. `source` tells where it comes from (more sources may come). */
export const ToolInfo = z.object({
  name: z.string(),
  description: z.string(),
  source: z.string(),
  /** Only users with one of these roles may make the agent use it; absent: everyone. */
  roles: z.array(z.string()).optional(),
});
export type ToolInfo = z.infer<typeof ToolInfo>;
export const ListToolsReply = z.object({ tools: z.array(ToolInfo) });

/**
 * Every run keeps a short-lived ordered log of its events in a Redis stream, written by
 * agent-execution beside the live events it streams to the caller; any gateway replica reads it to
 * resume a client (`resume {runId, lastSeq}`) or to serve SSE. Entry layout: run-event-log.ts.
 */
export const runEventLogKey = (prefix: string, runId: string) => `${prefix}:run:{runlog:${runLogShard(runId)}}:${runId}:events`;
/**
 * Run logs are spread over this many hash slots (the `{runlog:<shard>}` tag). A reader tails many
 * runs in one multi-key XREAD, which a Redis Cluster allows only within one slot: a gateway reads
 * one XREAD per shard on a cluster, so the count bounds its blocking connections while still
 * spreading the logs over the masters.
 */
export const RUN_LOG_SHARDS = 16;
/** The shard of a run's log: FNV-1a of the run id, stable across processes and languages. */
export function runLogShard(runId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < runId.length; i++) {
    h ^= runId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % RUN_LOG_SHARDS;
}
/** How long a run's event log outlives the run's last event. */
export const RUN_EVENT_LOG_TTL_MS = 60 * 60_000;
