export * from './site-quarters.ts';
export * from './run.ts';
