export * from './evolve.ts';
export * from './projection.ts';
