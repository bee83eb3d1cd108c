export * from './connection.ts';
export * from './positioned-store.ts';
