export * from './decide.ts';
export * from './store.ts';
export * from './write-side.ts';
