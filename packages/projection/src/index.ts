export * from './definition.ts';
export * from './builds.ts';
export * from './run-build.ts';
export * from './reader.ts';
export * from './live.ts';
export * from './rebuild.ts';
export * from './document-locks.ts';
export * from './build-parts.ts';
