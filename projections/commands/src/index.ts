export * from './evolve.ts';
export * from './stats.ts';
export * from './projection.ts';
