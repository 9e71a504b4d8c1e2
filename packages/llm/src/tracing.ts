/**
 * A span per model call, named and attributed by the OpenTelemetry GenAI semantic conventions
 * (`chat <model>`, `embeddings <model>`; gen_ai.* attributes). Only the API is used: without a
 * tracer provider in the process these are no-op spans and cost next to nothing. Prompts and
 * completions are never recorded (they are user data); models, token counts and finish reasons are.
 */
import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { FinishReason, Usage } from './types.js';

const tracer = trace.getTracer('@parley/llm');

// The GenAI conventions are still "development" in @opentelemetry/semantic-conventions, whose advice
// for such names is to copy them rather than import the incubating entry point.
const GEN_AI = {
  operation: 'gen_ai.operation.name',
  system: 'gen_ai.system',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  finishReasons: 'gen_ai.response.finish_reasons',
  maxTokens: 'gen_ai.request.max_tokens',
  temperature: 'gen_ai.request.temperature',
} as const;

export function startModelSpan(
  operation: 'chat' | 'embeddings',
  model: string,
  serverUrl: string,
  request: { maxTokens?: number; temperature?: number } = {},
): Span {
  const span = tracer.startSpan(`${operation} ${model}`, { kind: SpanKind.CLIENT });
  if (!span.isRecording()) return span;
  // Every server this client speaks to has the OpenAI API; the conventions name the API's provider.
  span.setAttributes({ [GEN_AI.operation]: operation, [GEN_AI.system]: 'openai', [GEN_AI.requestModel]: model, 'server.address': hostOf(serverUrl) });
  if (request.maxTokens !== undefined) span.setAttribute(GEN_AI.maxTokens, request.maxTokens);
  if (request.temperature !== undefined) span.setAttribute(GEN_AI.temperature, request.temperature);
  return span;
}

export function endModelSpan(span: Span, result: { model?: string; usage?: Usage | null; finishReason?: FinishReason } | null, err?: unknown): void {
  if (span.isRecording()) {
    if (result?.model) span.setAttribute(GEN_AI.responseModel, result.model);
    if (result?.usage) span.setAttributes({ [GEN_AI.inputTokens]: result.usage.promptTokens, [GEN_AI.outputTokens]: result.usage.completionTokens });
    if (result?.finishReason) span.setAttribute(GEN_AI.finishReasons, [result.finishReason]);
    if (err !== undefined) {
      const code = typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : 'error';
      span.setAttribute('error.type', code);
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    }
  }
  span.end();
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}
