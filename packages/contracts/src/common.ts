import { z } from 'zod';
import { storable } from './text.js';

/** Ids travel into Redis keys and PostgreSQL columns: storable, like every text a caller sends. */
export const Id = storable(z.string().min(1).max(128));
export const IsoDate = z.string().datetime({ offset: true });
export const Channel = z.enum(['web', 'chatwoot', 'api']);
export type Channel = z.infer<typeof Channel>;

export const Usage = z.object({
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  totalTokens: z.number().int().nonnegative(),
});
export type Usage = z.infer<typeof Usage>;

/** A tool call as the model emitted it; `arguments` is the model's JSON text, kept verbatim. */
export const ToolCall = z.object({
  id: storable(z.string().min(1).max(128)),
  name: storable(z.string().min(1).max(128)),
  arguments: storable(z.string().max(100_000)),
});
export type ToolCall = z.infer<typeof ToolCall>;

export const Page = z.object({
  cursor: storable(z.string().max(512)).optional(),
  limit: z.number().int().min(1).max(100).default(20),
});
