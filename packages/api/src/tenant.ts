import { z } from 'zod';
import { EntityId } from '@gridstream/events';

/**
 * Until API keys bind a request to its tenant, the caller names the tenant in this header.
 * Every read and every event written is scoped to it.
 */
export const TENANT_HEADER = 'x-gridstream-tenant';

export const TenantHeaders = z.object({ [TENANT_HEADER]: EntityId });
