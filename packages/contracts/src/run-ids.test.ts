import { describe, expect, it } from 'vitest';
import { chatwootSaveActionId, chatwootSendActionId, runAnswerMessageId, runTurnMessageId, runUserMessageId, runWebhookActionId } from './run-ids.js';

// These ids are stored (message ids in conversations, action ids in the bus's de-duplication) and looked
// up by later deliveries and by other services: changing a format orphans what is already stored.
describe('run ids', () => {
  it('keep their stored formats', () => {
    const runId = '0b6c2a9e-run';
    expect(runUserMessageId(runId)).toBe('0b6c2a9e-run:user');
    expect(runAnswerMessageId(runId)).toBe('0b6c2a9e-run:answer');
    expect(runTurnMessageId(runId, 2)).toBe('0b6c2a9e-run:t2');
    expect(chatwootSendActionId(runId)).toBe('cw-send:0b6c2a9e-run');
    expect(chatwootSaveActionId(runAnswerMessageId(runId))).toBe('cw-save:0b6c2a9e-run:answer');
    expect(runWebhookActionId(runId)).toBe('webhook:0b6c2a9e-run');
  });
});
