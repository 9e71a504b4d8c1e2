import type { ActionMeta, Bus } from '@parley/bus';
import type { BeginTurn, Catalog, ContextMessage, Channel, MessageRole, SaveMessage, TurnStatus, Usage, ToolCall } from '@parley/contracts';

export interface SavedTurn {
  messageId: string;
  role: MessageRole;
  /** Role `status`: how the turn ended. */
  status?: TurnStatus;
  content: string;
  toolCalls?: ToolCall[] | undefined;
  toolCallId?: string | undefined;
  model?: string;
  latencyMs?: number;
  usage?: Usage;
}

/** agent-execution's view of the conversation service: three actions over the bus. */
export class ConversationPort {
  constructor(private readonly bus: Bus<Catalog>) {}

  /** `fence`: the run's lock holder; the save is refused (`conflict`) once another run holds the conversation. */
  async save(
    meta: ActionMeta,
    conversationId: string,
    runId: string,
    agentId: string,
    channel: Channel,
    turn: SavedTurn,
    fence: string | undefined,
    signal: AbortSignal,
  ): Promise<void> {
    await this.bus.call('conversation.save_message', toSaveMessage(conversationId, runId, agentId, channel, turn, fence), meta, { signal });
  }

  /** Saves the run's user message and returns the context that ends with it, in one round trip. */
  async beginTurn(
    meta: ActionMeta,
    conversationId: string,
    runId: string,
    agentId: string,
    channel: Channel,
    turn: SavedTurn,
    budget: { maxTokens: number },
    fence: string | undefined,
    signal: AbortSignal,
  ): Promise<ContextMessage[]> {
    const data: BeginTurn = { ...toSaveMessage(conversationId, runId, agentId, channel, turn, fence), context: budget };
    const reply = await this.bus.call('conversation.begin_turn', data, meta, { signal });
    return reply.context.messages;
  }

  async context(meta: ActionMeta, conversationId: string, maxTokens: number, signal: AbortSignal): Promise<ContextMessage[]> {
    const reply = await this.bus.call('conversation.get_context', { conversationId, maxTokens }, meta, { signal });
    return reply.messages;
  }
}

function toSaveMessage(conversationId: string, runId: string, agentId: string, channel: Channel, turn: SavedTurn, fence: string | undefined): SaveMessage {
  const data: SaveMessage = { conversationId, runId, agentId, channel, messageId: turn.messageId, role: turn.role, content: turn.content };
  if (fence !== undefined) data.fence = fence;
  if (turn.toolCalls?.length) data.toolCalls = turn.toolCalls;
  if (turn.toolCallId !== undefined) data.toolCallId = turn.toolCallId;
  if (turn.model !== undefined) data.model = turn.model;
  if (turn.latencyMs !== undefined) data.latencyMs = Math.round(turn.latencyMs);
  if (turn.usage !== undefined) data.usage = turn.usage;
  if (turn.status !== undefined) data.status = turn.status;
  return data;
}
