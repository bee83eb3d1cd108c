export * from './fleet.ts';
export * from './run.ts';
