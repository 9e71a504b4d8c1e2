import type { ActionMeta, Bus } from '@parley/bus';
import { ActionError, type AgentConfig, type Catalog, type DecideApproval } from '@parley/contracts';
import type { Decision, RunPauses } from '../../stores/run-pauses.js';
import type { AgentStore } from '../../stores/agent-store.js';
import type { ToolDef } from '../tools/define-tool.js';
import { argumentsProblem } from '../tools/json-schema.js';

/**
 * `agent.decide_approval`: a decision on the tool call a paused run waits on. Who may decide is the gateway's rule
 * (the agent's approver: the run's owner, or staff); here the run must be waiting on exactly that call, edited
 * arguments must fit the tool's schema, and only one decision wins (RunPauses.decide). The run then goes on through
 * `agent.resume_run`, on whichever replica takes it.
 */
export class ApprovalDecisions {
  constructor(
    private readonly pauses: RunPauses,
    private readonly agents: AgentStore,
    private readonly tools: readonly ToolDef[],
    private readonly bus: Bus<Catalog>,
  ) {}

  async decide(tenantId: string, d: DecideApproval, meta: ActionMeta): Promise<{ runId: string; status: 'RUNNING' }> {
    const row = await this.pauses.load(tenantId, d.runId);
    if (!row) throw new ActionError('not_found', `run ${d.runId} does not exist for this tenant`);
    const waiting = row.status === 'PAUSED' ? row.pause?.approval : undefined;
    if (!waiting) throw new ActionError('conflict', `run ${d.runId} is not waiting for an approval (it is ${row.status})`);
    if (waiting.approvalId !== d.approvalId)
      throw new ActionError('conflict', `run ${d.runId} waits for a decision on ${waiting.approvalId}, not ${d.approvalId}`, {
        details: { approvalId: waiting.approvalId },
      });
    const decision: Decision = { decision: d.decision, by: meta.userId ?? null };
    if (d.decision === 'edit') {
      if (!d.args) throw new ActionError('invalid_payload', 'an edit needs the arguments the tool should run with', { details: { fields: ['args'] } });
      const agent = await this.agents.get(tenantId, row.agentId);
      this.checkArgs(agent, waiting.tool, d.args);
      decision.args = d.args;
    }
    if (d.decision === 'reject' && d.reason) decision.reason = d.reason;
    if (!(await this.pauses.decide(tenantId, d.runId, d.approvalId, decision)))
      throw new ActionError('conflict', `run ${d.runId} was decided on already (or timed out) before this decision`);
    await this.bus.send('agent.resume_run', { runId: d.runId }, { ...meta, correlationId: d.runId });
    return { runId: d.runId, status: 'RUNNING' };
  }

  /** Edited arguments against the tool's own schema: a built-in's zod schema, an HTTP tool's JSON schema. */
  private checkArgs(agent: AgentConfig | null, tool: string, args: Record<string, unknown>): void {
    const builtin = this.tools.find((t) => t.name === tool);
    if (builtin && !builtin.parameters) {
      const parsed = builtin.args.safeParse(args);
      if (parsed.success) return;
      const issue = parsed.error.issues[0];
      const field = ['args', ...(issue?.path ?? []).map(String)].join('.');
      throw new ActionError('invalid_payload', `${field}: ${issue?.message ?? 'invalid'} (arguments of ${tool})`, { details: { fields: [field] } });
    }
    const http = agent?.httpTools?.find((t) => t.name === tool);
    if (http) {
      const problem = argumentsProblem(http.inputSchema, args);
      if (problem) throw new ActionError('invalid_payload', `${problem} (arguments of ${tool})`, { details: { fields: ['args'] } });
    }
    // An MCP server's tool is checked by the server itself when called; a refusal reaches the model as a tool error.
  }
}
