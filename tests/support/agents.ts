/** The body of POST /api/v1/agents for an agent whose one tool (current_time) waits for `approver`'s approval. */
export function gatedClockAgent(agentId: string, name: string, approver: 'user' | 'operator') {
  return {
    agentId,
    name,
    systemPrompt: 'You tell the time.',
    greeting: '',
    model: 'parley-dev',
    temperature: 0,
    tools: ['current_time'],
    flow: 'chat',
    doubleTexting: 'enqueue',
    maxRunMs: 30_000,
    requiresApproval: ['current_time'],
    approver,
  };
}
