import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  ErrorBodySchema,
  MAX_READINGS_PER_REQUEST as API_MAX_READINGS,
  ReadingBatch as ApiReadingBatch,
} from '@gridstream/api';
import { API_ERROR_CODES } from './errors.ts';
import { MAX_READINGS_PER_REQUEST, ReadingBatch } from './reading-input.ts';

// The client cannot import the API (it is private and pulls in Fastify, Kafka and MongoDB), so
// it builds the same schemas from @gridstream/events; these tests fail when the two part.
describe('the client states what the API takes and answers', () => {
  it('has the same reading batch schema as POST /v1/readings', () => {
    expect(z.toJSONSchema(ReadingBatch)).toEqual(z.toJSONSchema(ApiReadingBatch));
    expect(MAX_READINGS_PER_REQUEST).toBe(API_MAX_READINGS);
  });

  it('knows every error code the API answers', () => {
    expect([...API_ERROR_CODES].sort()).toEqual([...ErrorBodySchema.shape.code.options].sort());
  });
});
