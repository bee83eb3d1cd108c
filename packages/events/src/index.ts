export * from './domain.ts';
export * from './device-actions.ts';
export * from './payloads.ts';
export * from './catalogue.ts';
export * from './envelope.ts';
export * from './kafka-codec.ts';
export * from './issues.ts';
export * from './json-schema.ts';
