export * from './fleet.ts';
export * from './commands.ts';
export * from './responder.ts';
export * from './run.ts';
export * from './demo-carbon.ts';
