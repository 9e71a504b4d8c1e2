/**
 * Tool calls that wait for a person (AgentSpec `requiresApproval`). The chat flow pauses on each such call with
 * LangGraph's `interrupt(ApprovalRequest)`; the run goes on when it is resumed with an ApprovalResume.
 */

/** What a paused run waits on: the model's call, by its id. */
export interface ApprovalRequest {
  approvalId: string;
  tool: string;
  args: unknown;
}

/** The decision a paused call is resumed with. */
export type ApprovalResume = { decision: 'approve' } | { decision: 'edit'; args: Record<string, unknown> } | { decision: 'reject'; reason?: string };

export function isApprovalRequest(v: unknown): v is ApprovalRequest {
  return typeof v === 'object' && v !== null && 'approvalId' in v && typeof v.approvalId === 'string' && 'tool' in v && typeof v.tool === 'string';
}
