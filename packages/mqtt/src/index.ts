export * from './accounts.ts';
export * from './bridge.ts';
export * from './readings.ts';
export * from './settings.ts';
export * from './topic-map.ts';
