export { createBus, type BusOptions } from './bus.js';
export type { ActionMeta, Bus, BusHooks, CallOptions, Handler, HandlerContext, Handlers, Outcome, WorkerHandle, WorkerOptions } from './types.js';
export { uuidv7, newTraceId } from './ids.js';
export { trimByProgress } from './trimmer.js';
