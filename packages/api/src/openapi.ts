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

/** The error answers every route under /v1 may give besides its own (404, 409 ...). */
const COMMON_ERRORS: Record<number, string> = {
  400: 'VALIDATION: a field is invalid; `issues` names each with its path',
  401: 'UNAUTHENTICATED: no API key, or an unknown or revoked one',
  403: 'FORBIDDEN: the key lacks the scope this route needs',
  404: 'NOT_FOUND: nothing of this tenant by that id',
  413: 'PAYLOAD_TOO_LARGE: the body is larger than the route accepts',
  429: 'RATE_LIMITED: too many requests for this key; see retry-after',
  503: 'DEPENDENCY_UNAVAILABLE: Kafka, QuestDB or MongoDB did not answer; retry',
};

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
      for (const [status, description] of Object.entries(COMMON_ERRORS))
        response[status] ??= errorResponse(description);
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
