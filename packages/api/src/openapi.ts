import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifySchema } from 'fastify';
import { createJsonSchemaTransform } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ErrorBodySchema } from './errors.ts';

export const DOCS_PREFIX = '/docs';
/** The OpenAPI 3.1 document as JSON (served by @fastify/swagger-ui beside the page). */
export const OPENAPI_JSON_URL = `${DOCS_PREFIX}/json`;
export const SECURITY_SCHEME = 'apiKey';

const errorJsonSchema = z.toJSONSchema(ErrorBodySchema, { target: 'draft-2020-12' });

/**
 * The error answers a route may give besides its own (409, 422 ...), and what makes it able to:
 * every route with a key can be refused it, rate limited or find a backing service down; one
 * with input can find it invalid; one naming an id in its path can find nothing by it; one
 * with a body can find it too large or of another media type.
 */
const COMMON_ERRORS: readonly {
  status: number;
  description: string;
  when: (input: RouteInput) => boolean;
}[] = [
  {
    status: 400,
    description: 'VALIDATION: a field is invalid; `issues` names each with its path',
    when: (r) => r.params || r.query || r.body || r.headers,
  },
  {
    status: 401,
    description: 'UNAUTHENTICATED: no API key, or an unknown or revoked one',
    when: () => true,
  },
  {
    status: 403,
    description: 'FORBIDDEN: the key lacks the scope this route needs',
    when: () => true,
  },
  {
    status: 404,
    description: 'NOT_FOUND: nothing of this tenant by that id',
    when: (r) => r.params,
  },
  {
    status: 413,
    description: 'PAYLOAD_TOO_LARGE: the body is larger than the route accepts',
    when: (r) => r.body,
  },
  {
    status: 414,
    description: 'URI_TOO_LONG: a path parameter is far longer than any id may be',
    when: (r) => r.params,
  },
  {
    status: 415,
    description: 'UNSUPPORTED_MEDIA_TYPE: the body is not sent as application/json',
    when: (r) => r.body,
  },
  {
    status: 429,
    description: 'RATE_LIMITED: too many requests for this key; see retry-after',
    when: () => true,
  },
  {
    status: 503,
    description: 'DEPENDENCY_UNAVAILABLE: Kafka, QuestDB or MongoDB did not answer; retry',
    when: () => true,
  },
];

/** What kinds of input a route takes, from its schema as the document shows it. */
interface RouteInput {
  readonly params: boolean;
  readonly query: boolean;
  readonly body: boolean;
  readonly headers: boolean;
}

function inputOf(schema: FastifySchema): RouteInput {
  const has = (part: unknown) => {
    const properties = (part as { properties?: object } | undefined)?.properties;
    return properties !== undefined && Object.keys(properties).length > 0;
  };
  return {
    params: has(schema.params),
    query: has(schema.querystring),
    body: schema.body !== undefined,
    headers: has(schema.headers),
  };
}

function errorResponse(description: string) {
  return { description, content: { 'application/json': { schema: errorJsonSchema } } };
}

/**
 * OpenAPI 3.1 at /docs, generated from the zod schemas the routes validate with: each route
 * with a scope gets the bearer key as its security and its error answers; the rest are public.
 */
export async function installOpenApi(app: FastifyInstance): Promise<void> {
  const zodTransform = createJsonSchemaTransform({
    skipList: [`${DOCS_PREFIX}/*`, DOCS_PREFIX, `${DOCS_PREFIX}/`],
  });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'gridstream API',
        description:
          "Queries, ingest, commands and live push for energy data. Every /v1 route needs `Authorization: Bearer <key>` of a key with the scope named in its description; everything it reads and writes belongs to the key's tenant. Errors are JSON: `{ code, message, issues? }`.",
        version: '1',
      },
      components: {
        securitySchemes: {
          [SECURITY_SCHEME]: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API key from `gridstream keys create --tenant <t> --scopes read,...`',
          },
        },
      },
    },
    transform: (input) => {
      const { schema, url } = zodTransform(input);
      const scope = input.route.config?.scope;
      if (scope === undefined) return { schema: { ...schema, security: [] }, url };
      const response = { ...(schema.response as Record<string, unknown> | undefined) };
      const takes = inputOf(schema);
      for (const { status, description, when } of COMMON_ERRORS)
        if (when(takes)) response[status] ??= errorResponse(description);
      const described: FastifySchema & Record<string, unknown> = {
        ...schema,
        security: [{ [SECURITY_SCHEME]: [] }],
        description: `Needs scope \`${scope}\` (or \`admin\`).`,
        'x-scope': scope,
        response,
      };
      return { schema: described, url };
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: DOCS_PREFIX });
}
