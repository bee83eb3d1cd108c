export * from './reader.ts';
export * from './writer.ts';
export * from './wal.ts';
export * from './readings-table.ts';
export * from './energy-tables.ts';
export * from './energy-rollups.ts';
export * from './events-table.ts';
export * from './retention.ts';
