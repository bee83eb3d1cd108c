import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ErrorCode, GridstreamError, isRetriable } from '@gridstream/errors';

/** The JSON body of every error response. `code` is stable; clients match on it. */
export const ErrorBodySchema = z
  .object({
    code: z.enum(Object.keys(ErrorCode) as [ErrorCode, ...ErrorCode[]]),
    message: z.string().describe('What went wrong and what to do about it, for a person'),
    reason: z
      .string()
      .optional()
      .describe(
        'For a refusal: why, as a stable word (`device-decommissioned`, `missing-scope` ...)',
      ),
    issues: z
      .array(
        z.object({
          in: z.string().describe('body, querystring, params or headers'),
          path: z.string().describe('the field, dotted: `readings.2.time`'),
          message: z.string(),
        }),
      )
      .optional()
      .describe('For VALIDATION: every invalid field'),
  })
  .meta({ title: 'Error' });
export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/**
 * A VALIDATION error body: every invalid field (`path` dotted from the root of `location`), and a
 * message naming the first; or, for a body that is not JSON at all, that message alone.
 */
export function validationError(
  location: string,
  problem: {
    readonly message?: string;
    readonly issues: readonly { path: string; message: string }[];
  },
): ErrorBody {
  const issues = problem.issues.map((issue) => ({ in: location, ...issue }));
  // a stable reason, like every refusal of a decide function
  const reason = 'invalid-request';
  if (problem.message !== undefined)
    return {
      code: 'VALIDATION',
      message: problem.message,
      reason,
      ...(issues.length > 0 ? { issues } : {}),
    };
  const first = issues[0];
  const where =
    first === undefined ? location : `${location}${first.path === '' ? '' : `.${first.path}`}`;
  return {
    code: 'VALIDATION',
    message: `${issues.length} invalid field${issues.length === 1 ? '' : 's'}; first: ${where}: ${first?.message ?? 'invalid'}`,
    reason,
    issues,
  };
}

function validationBody(error: {
  validation: readonly { instancePath: string; message?: string }[];
  validationContext?: string;
}): ErrorBody {
  return validationError(error.validationContext ?? 'body', {
    issues: error.validation.map((v) => ({
      path: v.instancePath.replace(/^\//, '').replaceAll('/', '.'),
      message: v.message ?? 'invalid',
    })),
  });
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({
      code: 'NOT_FOUND',
      message: `no route ${request.method} ${request.url}`,
    } satisfies ErrorBody);
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(error)) {
      return reply.code(400).send(validationBody(error));
    }
    if (error instanceof GridstreamError) {
      if (error.code === 'UNAUTHENTICATED') void reply.header('www-authenticate', 'Bearer');
      // A backing service that is down (Kafka for ingest and commands): the client tries again.
      if (error.code === 'DEPENDENCY_UNAVAILABLE' && !reply.hasHeader('retry-after'))
        void reply.header('retry-after', '1');
      return reply.code(error.status).send({
        code: error.code,
        message: error.message,
        ...(error.reason === undefined ? {} : { reason: error.reason }),
        ...(error.issues === undefined
          ? {}
          : { issues: error.issues.map((i) => ({ in: 'body', ...i })) }),
      } satisfies ErrorBody);
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return reply
        .code(413)
        .send({ code: 'PAYLOAD_TOO_LARGE', message: error.message } satisfies ErrorBody);
    }
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return reply
        .code(400)
        .send({ code: 'VALIDATION', message: error.message } satisfies ErrorBody);
    }
    if (isRetriable(error)) {
      request.log.warn({ err: error }, 'dependency unavailable');
      return reply
        .code(503)
        .header('retry-after', '1')
        .send({
          code: 'DEPENDENCY_UNAVAILABLE',
          message: `${ErrorCode.DEPENDENCY_UNAVAILABLE.title}; retry shortly`,
        } satisfies ErrorBody);
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send({
      code: 'INTERNAL',
      message: 'internal error; it has been logged',
    } satisfies ErrorBody);
  });
}
