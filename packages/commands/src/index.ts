export * from './command-ids.ts';
export * from './refusal.ts';
export * from './decide-request.ts';
export * from './decide-cancel.ts';
export * from './command-bus.ts';
export * from './idempotency-store.ts';
export * from './idempotency.ts';
