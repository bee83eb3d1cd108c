import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { GridstreamError } from '@gridstream/errors';
import { Timestamp } from '@gridstream/events';
import { letterJson, TOPIC_ROLES } from '@gridstream/kafka';
import type { LetterFilter } from '@gridstream/kafka';
import type { ApiDependencies } from '../dependencies.ts';
import { tenantOf } from '../auth/authenticate.ts';
import { DeadLetterResponse, DeadLettersResponse } from '../responses.ts';

export const MAX_DEAD_LETTERS_PER_REQUEST = 1000;

export const DeadLettersQuery = z.object({
  topic: z
    .enum(TOPIC_ROLES.filter((role) => role !== 'dlq') as [string, ...string[]])
    .optional()
    .describe('the source topic, by role'),
  group: z.string().min(1).max(249).optional().describe('the consumer group that dead-lettered it'),
  reason: z.string().min(1).max(200).optional().describe('text the reason contains (any case)'),
  stage: z.enum(['decode', 'process']).optional(),
  since: Timestamp.optional().describe('dead-lettered at or after'),
  until: Timestamp.optional().describe('dead-lettered before'),
  redriven: z
    .enum(['true', 'false'])
    .optional()
    .describe('only letters redriven already, or not yet'),
  limit: z.coerce.number().int().min(1).max(MAX_DEAD_LETTERS_PER_REQUEST).default(100),
});

const LetterId = z.object({
  id: z
    .string()
    .regex(/^\d{1,9}-\d{1,19}$/)
    .describe('partition-offset in the DLQ topic, as the list gives it'),
});

/**
 * The tenant's dead letters, for an admin key: what its producers sent that a consumer could not
 * use, and why. A letter is the tenant's when the original carried the tenant's CloudEvents
 * tenant; bytes with no readable tenant are the operator's (`gridstream dlq`). A listing reads
 * the DLQ topic through, keeping only what matches: it is bounded by its retention. One letter is
 * read by its position: its partition from it on (where its redrive record would be).
 */
export const deadLetterRoutes: FastifyPluginAsyncZod<{ deps: ApiDependencies }> = async (
  app,
  { deps },
) => {
  app.get(
    '/v1/admin/dead-letters',
    {
      config: { scope: 'admin' },
      schema: { querystring: DeadLettersQuery, response: { 200: DeadLettersResponse } },
    },
    async (request) => {
      const { query } = request;
      const filter: LetterFilter = {
        tenant: tenantOf(request),
        ...(query.topic === undefined ? {} : { sourceTopic: query.topic }),
        ...(query.group === undefined ? {} : { consumerGroup: query.group }),
        ...(query.reason === undefined ? {} : { reason: query.reason }),
        ...(query.stage === undefined ? {} : { stage: query.stage }),
        ...(query.since === undefined ? {} : { since: new Date(query.since) }),
        ...(query.until === undefined ? {} : { until: new Date(query.until) }),
        ...(query.redriven === undefined ? {} : { redriven: query.redriven === 'true' }),
      };
      const { letters } = await deps.deadLetters(filter, { keepBytes: false });
      const newest = letters.slice(-query.limit).reverse();
      return {
        letters: newest.map((letter) => {
          const { key: _key, value: _value, headers: _headers, ...summary } = letterJson(letter);
          return summary;
        }),
        matched: letters.length,
      };
    },
  );

  app.get(
    '/v1/admin/dead-letters/:id',
    {
      config: { scope: 'admin' },
      schema: { params: LetterId, response: { 200: DeadLetterResponse } },
    },
    async (request) => {
      const { id } = request.params;
      // The id is the letter's position: its partition is read from it on, not the whole DLQ.
      const letter = await deps.deadLetter(id);
      if (letter === undefined || letter.tenant !== tenantOf(request))
        throw new GridstreamError('NOT_FOUND', `no dead letter ${id} of this tenant`);
      return letterJson(letter);
    },
  );
};
