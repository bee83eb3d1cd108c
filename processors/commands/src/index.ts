export * from './device-commands.ts';
export * from './event-ids.ts';
export * from './command-saga.ts';
export * from './plan.ts';
export * from './store.ts';
export * from './run.ts';
