import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ErrorCode, GridstreamError, isRetriable } from '@gridstream/errors';
import type { ErrorDefinition } from '@gridstream/errors';
import { RouteTable } from './route-table.ts';

/**
 * HTTP's own refusals, which only the API gives: no processor ever meets them, so they are
 * not in the catalogue that chooses between retry and dead letter.
 */
export const HttpErrorCode = {
  /** The path exists, but not with this method; `allow` names the methods it takes. */
  METHOD_NOT_ALLOWED: {
    status: 405,
    retriable: false,
    title: 'The path does not take this method',
  },
  /** A path parameter is longer than the router reads (far longer than any id may be). */
  URI_TOO_LONG: { status: 414, retriable: false, title: 'A path parameter is too long' },
  /** The body's content-type is not one the route takes (application/json). */
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    retriable: false,
    title: 'The body is of a media type the route does not take',
  },
  /**
   * The API process holds as much work of the route as it takes (POST /v1/readings:
   * GS_API_INGEST_MAX_IN_FLIGHT batches); the request was not read. `retry-after` says when.
   */
  OVERLOADED: { status: 503, retriable: true, title: 'The API is busy; retry after retry-after' },
} as const satisfies Record<string, ErrorDefinition>;
export type HttpErrorCode = keyof typeof HttpErrorCode;

const ERROR_CODES = [...Object.keys(ErrorCode), ...Object.keys(HttpErrorCode)] as [
  ErrorCode | HttpErrorCode,
  ...(ErrorCode | HttpErrorCode)[],
];

/** The JSON body of every error response. `code` is stable; clients match on it. */
export const ErrorBodySchema = z
  .object({
    code: z.enum(ERROR_CODES),
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

/** Where the query string starts, or the end. */
const pathOf = (url: string) => url.split('?', 1)[0] ?? url;

/**
 * Errors Fastify answers before any route runs (a path that is not valid percent-encoding, a
 * path parameter longer than the router reads), in the same body as every other error.
 */
export function answerFrameworkError(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    void reply.code(414).send({
      code: 'URI_TOO_LONG',
      message: 'a path parameter is longer than any id may be (128 characters)',
      reason: 'uri-too-long',
    } satisfies ErrorBody);
    return;
  }
  if (error.code === 'FST_ERR_BAD_URL') {
    void reply.code(400).send({
      code: 'VALIDATION',
      message: 'the path is not valid percent-encoding',
      reason: 'bad-url',
      issues: [{ in: 'params', path: '', message: 'malformed percent-encoding' }],
    } satisfies ErrorBody);
    return;
  }
  void reply.code(500).send({
    code: 'INTERNAL',
    message: 'internal error; it has been logged',
  } satisfies ErrorBody);
}

export function installErrorHandler(app: FastifyInstance): void {
  const routes = new RouteTable();
  app.addHook('onRoute', (route) => {
    routes.add(route.method, route.url);
  });
  /** No route for this method and path: 405 when the path takes other methods, else 404. */
  const noRoute = (request: FastifyRequest, reply: FastifyReply) => {
    const allowed = routes.methodsOf(pathOf(request.url));
    if (allowed.length === 0)
      return reply.code(404).send({
        code: 'NOT_FOUND',
        message: `no route ${request.method} ${pathOf(request.url)}`,
      } satisfies ErrorBody);
    const allow = [...allowed, 'OPTIONS'].join(', ');
    if (request.method === 'OPTIONS') return reply.code(204).header('allow', allow).send();
    return reply
      .code(405)
      .header('allow', allow)
      .send({
        code: 'METHOD_NOT_ALLOWED',
        message: `${pathOf(request.url)} does not take ${request.method}; it takes ${allowed.join(', ')}`,
        reason: 'method-not-allowed',
      } satisfies ErrorBody);
  };
  app.setNotFoundHandler(noRoute);
  app.setErrorHandler((error: FastifyError, request, reply) => {
    // A request without a route that failed before the not-found handler (a QUERY without a
    // content-type fails where its body would be parsed): no route is still the answer.
    if (request.is404) return noRoute(request, reply);
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
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      const type = request.headers['content-type'];
      return reply.code(415).send({
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: `${type === undefined ? 'a body without a content-type' : `content-type ${type}`} is not taken here; send application/json`,
        reason: 'unsupported-media-type',
      } satisfies ErrorBody);
    }
    // Fastify's other refusals of a request (malformed JSON, a body without content-type ...)
    if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(400).send({
        code: 'VALIDATION',
        message: error.message,
        reason: 'invalid-request',
      } satisfies ErrorBody);
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
