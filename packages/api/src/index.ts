export * from './app.ts';
export * from './dependencies.ts';
export * from './errors.ts';
export * from './server.ts';
export * from './auth/api-keys.ts';
export * from './auth/authenticate.ts';
export * from './auth/scopes.ts';
export * from './openapi.ts';
export { MAX_READINGS_PER_REQUEST, ReadingBatch, ReadingInput } from './routes/readings.ts';
