export * from './evolve.ts';
export * from './store.ts';
export * from './run.ts';
export * from './connectivity.ts';
export * from './as-of.ts';
export * from './sites.ts';
