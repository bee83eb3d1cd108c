export * from './alert-state.ts';
export * from './alert-events.ts';
export * from './rules.ts';
export * from './offline-sweep.ts';
export * from './device-batch.ts';
export * from './state-store.ts';
export * from './run.ts';
