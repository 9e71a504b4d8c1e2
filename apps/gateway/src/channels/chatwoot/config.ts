/**
 * The Chatwoot channel's env variables, spread into the gateway's env.ts so that file stays the
 * only one that reads the environment. The CHATWOOT_* inbox variables are the default inbox: used
 * for any inbox the database does not configure (or only for CHATWOOT_ACCOUNT_ID/INBOX_ID when set).
 */
import { z } from 'zod';
import { ChatwootStatus } from '@parley/contracts';
import { envInt, envList } from '@parley/service-kit';

export const chatwootEnvShape = {
  CHATWOOT_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  CHATWOOT_API_TOKEN: z.string().min(8).optional(),
  CHATWOOT_WEBHOOK_SECRET: z.string().min(16, 'use at least 16 characters').optional(),
  CHATWOOT_INBOX_TOKEN: z.string().min(24, 'use at least 24 random characters').optional(),
  CHATWOOT_ACCOUNT_ID: z.coerce.number().int().positive().optional(),
  CHATWOOT_INBOX_ID: z.coerce.number().int().positive().optional(),
  CHATWOOT_TENANT_ID: z.string().min(1).max(128).default('default'),
  CHATWOOT_AGENT_ID: z.string().min(1).max(128).optional(),
  CHATWOOT_ANSWER_STATUSES: envList(['pending']).pipe(z.array(ChatwootStatus).min(1)),
  CHATWOOT_HANDOFF_NOTE: z.string().min(1).max(1_000).optional(),
  CHATWOOT_MAX_ATTEMPTS: envInt(6),
  CHATWOOT_BACKOFF_MS: envInt(500),
  CHATWOOT_REQUEST_TIMEOUT_MS: envInt(10_000),
  CHATWOOT_MAX_SKEW_S: envInt(300),
  CHATWOOT_DEDUPE_TTL_S: envInt(24 * 3600),
  /** A conversation whose head message got no answer for this long is started again by its next message. */
  CHATWOOT_STALL_MS: envInt(15 * 60_000),
  /** Starts of one message (its first and the stall sweep's) before it is given up with a notice to the contact. */
  CHATWOOT_MESSAGE_ATTEMPTS: envInt(3),
};

type ChatwootEnv = z.output<z.ZodObject<typeof chatwootEnvShape>>;

/** One inbox's settings, from the database or the env default. */
export interface InboxSettings {
  accountId: number | null;
  inboxId: number | null;
  tenantId: string;
  agentId: string | null;
  baseUrl: string;
  apiToken: string;
  webhookSecret: string | null;
  inboxToken: string | null;
  answerStatuses: string[];
  handoffNote: string;
  enabled: boolean;
  source: 'database' | 'env';
}

export interface ChatwootConfig {
  /** Rules across variables, reported with the gateway's other configuration problems. */
  problems: string[];
  /** null when CHATWOOT_BASE_URL and CHATWOOT_API_TOKEN are not both set. */
  defaultInbox: InboxSettings | null;
  maxAttempts: number;
  backoffMs: number;
  requestTimeoutMs: number;
  maxSkewS: number;
  dedupeTtlS: number;
  stallMs: number;
  messageAttempts: number;
}

export const DEFAULT_HANDOFF_NOTE = 'I am passing you to a person from our team. They will answer here as soon as they can.';

export function chatwootConfig(env: ChatwootEnv): ChatwootConfig {
  const complete = env.CHATWOOT_BASE_URL !== undefined && env.CHATWOOT_API_TOKEN !== undefined;
  return {
    problems: chatwootProblems(env),
    defaultInbox: complete
      ? {
          accountId: env.CHATWOOT_ACCOUNT_ID ?? null,
          inboxId: env.CHATWOOT_INBOX_ID ?? null,
          tenantId: env.CHATWOOT_TENANT_ID,
          agentId: env.CHATWOOT_AGENT_ID ?? null,
          baseUrl: (env.CHATWOOT_BASE_URL ?? '').replace(/\/+$/, ''),
          apiToken: env.CHATWOOT_API_TOKEN ?? '',
          webhookSecret: env.CHATWOOT_WEBHOOK_SECRET ?? null,
          inboxToken: env.CHATWOOT_INBOX_TOKEN ?? null,
          answerStatuses: env.CHATWOOT_ANSWER_STATUSES,
          handoffNote: env.CHATWOOT_HANDOFF_NOTE ?? DEFAULT_HANDOFF_NOTE,
          enabled: true,
          source: 'env',
        }
      : null,
    maxAttempts: Math.max(env.CHATWOOT_MAX_ATTEMPTS, 1),
    backoffMs: env.CHATWOOT_BACKOFF_MS,
    requestTimeoutMs: Math.max(env.CHATWOOT_REQUEST_TIMEOUT_MS, 100),
    maxSkewS: env.CHATWOOT_MAX_SKEW_S,
    dedupeTtlS: Math.max(env.CHATWOOT_DEDUPE_TTL_S, 60),
    stallMs: env.CHATWOOT_STALL_MS,
    messageAttempts: Math.max(env.CHATWOOT_MESSAGE_ATTEMPTS, 1),
  };
}

function chatwootProblems(env: Partial<ChatwootEnv>): string[] {
  const problems: string[] = [];
  const any = env.CHATWOOT_BASE_URL ?? env.CHATWOOT_API_TOKEN ?? env.CHATWOOT_WEBHOOK_SECRET ?? env.CHATWOOT_INBOX_TOKEN;
  if (any !== undefined && (env.CHATWOOT_BASE_URL === undefined || env.CHATWOOT_API_TOKEN === undefined)) {
    problems.push('CHATWOOT_BASE_URL and CHATWOOT_API_TOKEN: set both for the default Chatwoot inbox (or neither)');
  }
  if (env.CHATWOOT_BASE_URL !== undefined && !env.CHATWOOT_WEBHOOK_SECRET && !env.CHATWOOT_INBOX_TOKEN) {
    problems.push('CHATWOOT_WEBHOOK_SECRET or CHATWOOT_INBOX_TOKEN: one is required, webhooks are never accepted unchecked');
  }
  if ((env.CHATWOOT_INBOX_ID === undefined) !== (env.CHATWOOT_ACCOUNT_ID === undefined)) {
    problems.push('CHATWOOT_ACCOUNT_ID and CHATWOOT_INBOX_ID: set both to pin the default inbox, or neither');
  }
  return problems;
}

/** Problems of one stored inbox, checked when it is saved and at start. */
export function inboxProblems(s: InboxSettings): string[] {
  const where = `chatwoot inbox ${s.accountId ?? '*'}/${s.inboxId ?? '*'}`;
  const problems: string[] = [];
  if (!/^https?:\/\/[^/]+/.test(s.baseUrl)) problems.push(`${where}: baseUrl ${s.baseUrl} is not an http(s) URL`);
  if (!s.apiToken) problems.push(`${where}: apiToken is not set`);
  if (!s.webhookSecret && !s.inboxToken) problems.push(`${where}: set webhookSecret or inboxToken; webhooks are never accepted unchecked`);
  if (s.answerStatuses.length === 0) problems.push(`${where}: answerStatuses is empty, the bot would never answer`);
  return problems;
}
