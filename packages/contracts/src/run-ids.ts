/**
 * Ids derived from a run id that more than one service writes or reads. They are deterministic so a
 * redelivered run, a retried send or a recovery can find or repeat exactly what the first attempt did:
 * a message id is the conversation's idempotency key for a save, an action id the bus's for a send.
 */

/** The user's message a run saves (when the flow's input names none of its own). */
export const runUserMessageId = (runId: string): string => `${runId}:user`;

/** The assistant's answer a run saves; recovery and the gateway's replies look it up by this id. */
/** The message id of a run's status entry (a turn that ended without an answer): one per run, so a redelivered end saves it once. */
export const runStatusMessageId = (runId: string): string => `${runId}:status`;

export const runAnswerMessageId = (runId: string): string => `${runId}:answer`;

/** The n-th (1-based) intermediate turn (a tool call or its result) a run saves before its answer. */
export const runTurnMessageId = (runId: string, n: number): string => `${runId}:t${n}`;

/** `channel.chatwoot.send` of a run's outcome: one send per run, however often it is redelivered. */
export const chatwootSendActionId = (runId: string): string => `cw-send:${runId}`;

/** `conversation.save_message` of a message the Chatwoot channel saves itself (a direct answer, no run). */
export const chatwootSaveActionId = (messageId: string): string => `cw-save:${messageId}`;

/** `channel.webhook.deliver` of a run's result: one webhook POST per run. */
export const runWebhookActionId = (runId: string): string => `webhook:${runId}`;

/** `channel.web.handoff` of a web run whose `handoff_to_human` tool asked for a person: one per run. */
export const webHandoffActionId = (runId: string): string => `web-handoff:${runId}`;

/** The `handoff` marker ("waiting for a person") a web run's hand-off saves: one per run, so a redelivery saves it once. */
export const webHandoffMarkerId = (runId: string): string => `${runId}:handoff`;
