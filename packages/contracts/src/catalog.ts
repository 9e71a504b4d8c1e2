import { z } from 'zod';
import { action, type ActionType, type AnyCatalog, type ServiceOf } from './catalog-kit.js';
import * as agent from './agent.js';
import * as channel from './channel.js';
import * as handoff from './handoff.js';
import * as conv from './conversation.js';
import * as mig from './migration.js';
import * as query from './query.js';

const Empty = z.object({}).strict();

/**
 * THE catalog: every action type on the bus, its payload and reply schemas and delivery options.
 * The bus's `send`/`call`/`handle` are typed from this object.
 */
export const catalog = {
  // conversation: hot memory, history, CRM reads
  'conversation.save_message': action({
    service: 'conversation',
    description: 'Append a message to a conversation (created on its first message); idempotent by messageId.',
    data: conv.SaveMessage,
    reply: conv.SaveMessageReply,
    // No done-mark: the save is idempotent by messageId (also across migration: a re-created hot copy
    // knows its archived ids), and a redelivery answers the stored seq with created: false. A mark
    // would cost a lookup before every save and keep one key per saved message in Redis for a day.
    delivery: { visibilityTimeoutMs: 10_000 },
  }),
  'conversation.get_context': action({
    service: 'conversation',
    description: 'System prompt + newest turns that fit a token budget.',
    data: conv.GetContext,
    reply: conv.GetContextReply,
    delivery: { visibilityTimeoutMs: 10_000 },
  }),
  'conversation.begin_turn': action({
    service: 'conversation',
    description: "Save a run's user message, then answer the context window ending with it (save_message + get_context in one round trip).",
    data: conv.BeginTurn,
    reply: conv.BeginTurnReply,
    // No done-mark: the save is idempotent by messageId and the context is recomputed on a redelivery,
    // so nothing is repeated; remembering whole context windows for a day would cost memory instead.
    delivery: { visibilityTimeoutMs: 10_000 },
  }),
  'conversation.get_history': action({
    service: 'conversation',
    description: 'Raw history, paged backwards, hot or archived.',
    data: conv.GetHistory,
    reply: conv.GetHistoryReply,
    delivery: { visibilityTimeoutMs: 10_000 },
  }),
  'conversation.session_closed': action({
    service: 'conversation',
    description: 'Close a conversation and make it due for migration now.',
    data: conv.SessionClosed,
    reply: conv.SessionClosedReply,
    delivery: { mutates: true, visibilityTimeoutMs: 10_000 },
  }),
  'conversation.list': action({
    service: 'conversation',
    description: "The tenant's conversations, hot and archived, newest activity first.",
    data: conv.ListConversations,
    reply: conv.ListConversationsReply,
    delivery: { visibilityTimeoutMs: 10_000 },
  }),
  'conversation.get': action({
    service: 'conversation',
    description: 'One conversation summary.',
    data: conv.GetConversation,
    reply: conv.ConversationSummary,
    delivery: { visibilityTimeoutMs: 10_000 },
  }),
  'conversation.stats': action({
    service: 'conversation',
    description: 'Counts, latency and tokens for the tenant.',
    data: conv.ConversationStats,
    reply: conv.ConversationStatsReply,
    delivery: { visibilityTimeoutMs: 30_000, timeoutMs: 30_000 },
  }),

  // agent-execution
  'agent.run': action({
    service: 'agent',
    description: "Run a flow for a tenant's agent, streaming run events to the caller.",
    data: agent.AgentRun,
    reply: agent.RunResult,
    events: agent.RunEvent,
    // No done-mark (docs/adr/0002): the run record (agent_runs, by runId) is its idempotency key,
    // stronger than the action id, and a finished run delivered again is answered from it (RunRecovery.replay).
    delivery: { visibilityTimeoutMs: 20_000, maxDeliveries: 3, timeoutMs: 15 * 60_000 },
  }),
  'agent.cancel': action({
    service: 'agent',
    description: 'Abort a run wherever it runs.',
    data: agent.AgentCancel,
    reply: agent.AgentCancelReply,
  }),
  'agent.validate_run': action({
    service: 'agent',
    description: 'Checks a run before it is started: the agent, the flow and its input, as agent.run admits them.',
    data: agent.ValidateRun,
    reply: agent.ValidateRunReply,
  }),
  'agent.get_run': action({ service: 'agent', description: 'One run record.', data: agent.GetRun, reply: agent.RunRecord }),
  'agent.list_runs': action({ service: 'agent', description: "The tenant's runs, newest first.", data: agent.ListRuns, reply: agent.ListRunsReply }),
  'agent.list_flows': action({ service: 'agent', description: 'Registered flows with input JSON schemas.', data: Empty, reply: agent.ListFlowsReply }),
  'agent.list_agents': action({ service: 'agent', description: "The tenant's agents.", data: Empty, reply: agent.ListAgentsReply }),
  'agent.update_agent': action({
    service: 'agent',
    description: "Change an agent's prompt, model, tools, flow or policy.",
    data: agent.UpdateAgent,
    reply: agent.AgentConfig,
    delivery: { mutates: true },
  }),
  // Mutating agent actions are de-duplicated by action id (mutates): a redelivered create must answer its first reply,
  // not `conflict`, and a redelivered rollback must not add a second version.
  'agent.create_agent': action({
    service: 'agent',
    description: 'Create an agent (version 1); conflict when the tenant has one by that id.',
    data: agent.CreateAgent,
    reply: agent.AgentConfig,
    delivery: { mutates: true },
  }),
  'agent.get_agent': action({ service: 'agent', description: 'One agent, archived ones included.', data: agent.GetAgent, reply: agent.AgentConfig }),
  'agent.archive_agent': action({
    service: 'agent',
    description: 'Archive (archived: true) or restore an agent; an archived agent starts no runs. The default agent cannot be archived.',
    data: agent.ArchiveAgent,
    reply: agent.AgentConfig,
    delivery: { mutates: true },
  }),
  'agent.set_default_agent': action({
    service: 'agent',
    description: "Make an agent the tenant's default: the web chat's agent, and the one runs without agentId use.",
    data: agent.GetAgent,
    reply: agent.AgentConfig,
    delivery: { mutates: true },
  }),
  'agent.list_agent_versions': action({
    service: 'agent',
    description: "Every version of an agent's spec, newest first.",
    data: agent.ListAgentVersions,
    reply: agent.ListAgentVersionsReply,
  }),
  'agent.rollback_agent': action({
    service: 'agent',
    description: "Make an earlier version's spec current again, as a new version.",
    data: agent.RollbackAgent,
    reply: agent.AgentConfig,
    delivery: { mutates: true },
  }),
  'agent.list_tools': action({ service: 'agent', description: 'The tools an agent can be given.', data: Empty, reply: agent.ListToolsReply }),
  'agent.decide_approval': action({
    service: 'agent',
    description: "Records a decision on a paused run's tool call and has any replica resume the run.",
    data: agent.DecideApproval,
    reply: agent.DecideApprovalReply,
    // Idempotent by the run's state: only a PAUSED record takes a decision (one UPDATE … WHERE status = 'PAUSED'),
    // so a redelivery answers conflict instead of deciding twice.
  }),
  'agent.resume_run': action({
    service: 'agent',
    description: 'Continues a paused run from its checkpoint once its decision (or its timeout) is recorded.',
    data: agent.ResumeRun,
    reply: null,
    // Streamed to no caller (it is sent): the events go to the run's event log, which the gateway follows.
    events: agent.RunEvent,
    // Like agent.run: the record is the idempotency key (a resumed run is RUNNING, a finished one terminal).
    delivery: { visibilityTimeoutMs: 20_000, maxDeliveries: 3, timeoutMs: 15 * 60_000 },
  }),

  // migration
  'migration.migrate_conversation': action({
    service: 'migration',
    description: 'Move one conversation from Redis to PostgreSQL now.',
    data: mig.MigrateConversation,
    reply: mig.MigrateConversationReply,
    delivery: { visibilityTimeoutMs: 30_000, timeoutMs: 30_000 },
  }),
  'migration.start_loop': action({ service: 'migration', description: 'Resume the migration loop.', data: Empty, reply: mig.LoopState }),
  'migration.stop_loop': action({ service: 'migration', description: 'Pause the migration loop.', data: Empty, reply: mig.LoopState }),
  'migration.get_stats': action({ service: 'migration', description: 'Migrated, failed, pending, lag.', data: Empty, reply: mig.MigrationStats }),

  // query: knowledge base
  'query.ingest_document': action({
    service: 'query',
    description: 'Chunk, embed and store a document; re-ingesting a source replaces it.',
    data: query.IngestDocument,
    reply: query.DocumentInfo,
    delivery: { mutates: true, visibilityTimeoutMs: 60_000, timeoutMs: 120_000 },
  }),
  'query.delete_document': action({
    service: 'query',
    description: 'Delete a document and its chunks.',
    data: query.DeleteDocument,
    reply: query.DeleteDocumentReply,
    delivery: { mutates: true },
  }),
  'query.get_document': action({
    service: 'query',
    description: 'One document of the tenant with its passages; not_found for an unknown or foreign id.',
    data: query.GetDocument,
    reply: query.DocumentWithPassages,
  }),
  'query.list_documents': action({ service: 'query', description: "The tenant's documents.", data: query.ListDocuments, reply: query.ListDocumentsReply }),
  'query.search': action({ service: 'query', description: 'Hybrid full-text + embedding search.', data: query.SearchQuery, reply: query.SearchReply }),
  'query.answer': action({
    service: 'query',
    description: 'Grounded answer with citations.',
    data: query.AnswerQuestion,
    reply: query.AnswerReply,
    delivery: { timeoutMs: 60_000, visibilityTimeoutMs: 60_000 },
  }),

  // outbound channels, consumed by the gateway
  'channel.chatwoot.send': action({
    service: 'gateway',
    description: "Post a run's answer to a Chatwoot conversation, with retries.",
    data: channel.ChatwootSend,
    reply: channel.ChatwootSendReply,
    delivery: { mutates: true, visibilityTimeoutMs: 30_000, maxDeliveries: 8, timeoutMs: 60_000 },
  }),
  'channel.webhook.deliver': action({
    service: 'gateway',
    description: "POST a REST run's result to its webhook, signed, with retries; once per run.",
    data: channel.WebhookDeliver,
    reply: channel.WebhookDeliverReply,
    delivery: { mutates: true, visibilityTimeoutMs: 30_000, maxDeliveries: 8, timeoutMs: 120_000 },
  }),
  // Idempotent by state: a redelivery finds the conversation already waiting (or held) and changes nothing.
  'channel.web.handoff': action({
    service: 'gateway',
    description: "A web run asked for a human: the conversation waits in the operators' queue.",
    data: handoff.WebHandoff,
    reply: handoff.WebHandoffReply,
    delivery: { mutates: true },
  }),
} satisfies AnyCatalog;

export type Catalog = typeof catalog;
export type Service = ServiceOf<Catalog>;
export type Action = ActionType<Catalog>;
