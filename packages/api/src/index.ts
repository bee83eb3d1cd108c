export * from './app.ts';
export * from './dependencies.ts';
export * from './errors.ts';
export * from './server.ts';
export * from './tenant.ts';
export { MAX_READINGS_PER_REQUEST, ReadingBatch, ReadingInput } from './routes/readings.ts';
