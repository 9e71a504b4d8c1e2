import type { z } from 'zod';

/** How the bus delivers one action type. */
export interface DeliveryOptions {
  /** A pending entry idle this long is presumed abandoned and reclaimed; live handlers extend their claim. */
  visibilityTimeoutMs: number;
  /** Deliveries before the action is dead-lettered and its caller gets `max_deliveries`. */
  maxDeliveries: number;
  /** Mutating actions are de-duplicated by action id: a redelivery returns the first reply unexecuted. */
  mutates: boolean;
  /** Default `bus.call` timeout for this type. */
  timeoutMs: number;
}

export interface ActionDef<
  S extends string = string,
  D extends z.ZodType = z.ZodType,
  R extends z.ZodType | null = z.ZodType | null,
  E extends z.ZodType | null = z.ZodType | null,
> {
  service: S;
  description: string;
  data: D;
  /** `null`: fire-and-forget only (no reply schema, `bus.call` is a compile error). */
  reply: R;
  /** Events a handler may stream to the caller before replying. */
  events: E;
  delivery: DeliveryOptions;
}

export type AnyCatalog = Record<string, ActionDef>;

export const defaultDelivery: DeliveryOptions = {
  visibilityTimeoutMs: 15_000,
  maxDeliveries: 5,
  mutates: false,
  timeoutMs: 10_000,
};

/** Declares one catalog entry; keeps the literal types so the bus can be typed from the catalog. */
export function action<const S extends string, D extends z.ZodType, R extends z.ZodType | null, E extends z.ZodType | null = null>(def: {
  service: S;
  description: string;
  data: D;
  reply: R;
  events?: E;
  delivery?: Partial<DeliveryOptions>;
}): ActionDef<S, D, R, E> {
  return {
    service: def.service,
    description: def.description,
    data: def.data,
    reply: def.reply,
    events: (def.events ?? null) as E,
    delivery: { ...defaultDelivery, ...def.delivery },
  };
}

export type ServiceOf<C extends AnyCatalog> = C[keyof C]['service'];
export type ActionType<C extends AnyCatalog> = keyof C & string;
export type ActionsOf<C extends AnyCatalog, S extends string> = {
  [K in keyof C]: C[K]['service'] extends S ? K : never;
}[keyof C] &
  string;
/** Action types that answer (have a reply schema), i.e. valid for `bus.call`. */
export type CallableType<C extends AnyCatalog> = {
  [K in keyof C]: C[K]['reply'] extends z.ZodType ? K : never;
}[keyof C] &
  string;
/** What a sender passes (before defaults are applied). */
export type DataIn<C extends AnyCatalog, K extends keyof C> = z.input<C[K]['data']>;
/** What a handler receives (after parsing). */
export type DataOf<C extends AnyCatalog, K extends keyof C> = z.output<C[K]['data']>;
/** What a handler returns. */
export type ReplyIn<C extends AnyCatalog, K extends keyof C> = C[K]['reply'] extends z.ZodType ? z.input<C[K]['reply']> : void;
/** What a caller receives (after parsing). */
export type ReplyOf<C extends AnyCatalog, K extends keyof C> = C[K]['reply'] extends z.ZodType ? z.output<C[K]['reply']> : void;
export type EventOf<C extends AnyCatalog, K extends keyof C> = C[K]['events'] extends z.ZodType ? z.output<C[K]['events']> : never;

/** Names every stream, group and queue key, so the bus, ops tools and infra agree. */
export const busKeys = {
  /** `{service}` is a Redis Cluster hash tag: a service's stream, DLQ and marks share a slot. */
  stream: (prefix: string, service: string) => `${prefix}:actions:{${service}}`,
  deadLetters: (prefix: string, service: string) => `${prefix}:dlq:{${service}}`,
  doneMark: (prefix: string, service: string, actionId: string) => `${prefix}:done:{${service}}:${actionId}`,
  callbackQueue: (prefix: string, instance: string) => `${prefix}:cb:{${instance}}`,
  group: (service: string) => service,
};
