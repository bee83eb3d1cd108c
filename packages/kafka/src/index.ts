export * from './client.ts';
export * from './topics.ts';
export * from './publisher.ts';
export * from './consumer.ts';
export * from './dlq.ts';
export * from './global-table.ts';
export * from './group-progress.ts';
export * from './record-text.ts';
