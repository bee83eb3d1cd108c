import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GridstreamError } from '@gridstream/errors';
import type { ApiKeyStore, ApiPrincipal } from './api-keys.ts';
import { grants } from './scopes.ts';
import type { Scope } from './scopes.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a key needs for this route; every route under /v1 must name one. */
    scope?: Scope;
  }
  interface FastifyRequest {
    /** The verified key of a route that has a scope; undefined on public routes. */
    principal: ApiPrincipal | undefined;
  }
}

/** Routes under this prefix are the tenant's data: each must declare the scope it needs. */
export const PROTECTED_PREFIX = '/v1/';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Every route under /v1 declares `config: { scope }`; a request to it needs
 * `Authorization: Bearer <key>` of a key with that scope (or admin). Registering such a route
 * without a scope fails at startup, so no route can be left open by forgetting.
 */
export function installAuthentication(app: FastifyInstance, keys: ApiKeyStore): void {
  app.decorateRequest('principal', undefined);
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith(PROTECTED_PREFIX) && route.config?.scope === undefined)
      throw new Error(`route ${String(route.method)} ${route.url} declares no scope`);
  });
  app.addHook('onRequest', async (request) => {
    const scope = request.routeOptions.config.scope;
    if (scope === undefined) return;
    const key = BEARER.exec(request.headers.authorization ?? '')?.[1];
    if (key === undefined)
      throw new GridstreamError(
        'UNAUTHENTICATED',
        `send an API key as 'Authorization: Bearer <key>'; make one with: gridstream keys create --tenant <tenant> --scopes ${scope}`,
      );
    const principal = await keys.verify(key);
    if (principal === undefined)
      throw new GridstreamError('UNAUTHENTICATED', 'the API key is unknown or revoked');
    if (!grants(principal.scopes, scope))
      throw new GridstreamError(
        'FORBIDDEN',
        `this route needs a key with the '${scope}' scope; this key has: ${principal.scopes.join(', ')}`,
        { reason: 'missing-scope' },
      );
    request.principal = principal;
  });
}

/** The tenant every query and every written event of this request is bound to: the key's. */
export function tenantOf(request: FastifyRequest): string {
  if (request.principal === undefined)
    throw new GridstreamError('INTERNAL', `route ${request.url} reads a tenant but has no scope`);
  return request.principal.tenant;
}
