import type { BaseCheckpointSaver } from '@langchain/langgraph';
import { FlowRegistry, type FlowDefinition } from './define-flow.js';
import { chatFlow } from './chat.js';
import { poemFlow } from './poem.js';
import { researchFlow } from './research.js';
import { summarizeConversationFlow } from './summarize-conversation.js';

/** Every flow this service runs. Adding a flow: one file in this folder and one line here. */
export const builtinFlows = [chatFlow, summarizeConversationFlow, poemFlow, researchFlow] as unknown as readonly FlowDefinition[];

export const createFlowRegistry = (flows: readonly FlowDefinition[] = builtinFlows, saver?: BaseCheckpointSaver) => new FlowRegistry(flows, saver);
export { defineFlow, FlowRegistry, type FlowDefinition, type FlowRuntime, type FlowOutput } from './define-flow.js';
