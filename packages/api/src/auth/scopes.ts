import { z } from 'zod';

/**
 * What an API key may do. `read` for every query and the live stream, `ingest` to post
 * readings, `command` to request and cancel device commands, `manage` to register, change,
 * move, decommission and restore sites and devices, `admin` for everything the others allow
 * (within the key's one tenant).
 */
export const Scope = z.enum(['read', 'ingest', 'command', 'manage', 'admin']);
export type Scope = z.infer<typeof Scope>;

export const SCOPES: readonly Scope[] = Scope.options;

/** Whether a key holding `held` may use a route that needs `needed`. */
export function grants(held: readonly Scope[], needed: Scope): boolean {
  return held.includes(needed) || held.includes('admin');
}

/** Parses `read,ingest` (the CLI's --scopes); throws RangeError naming the unknown scope. */
export function parseScopes(list: string): Scope[] {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) throw new RangeError(`name at least one scope: ${SCOPES.join(', ')}`);
  return names.map((name) => {
    const parsed = Scope.safeParse(name);
    if (!parsed.success)
      throw new RangeError(`unknown scope '${name}'; the scopes are ${SCOPES.join(', ')}`);
    return parsed.data;
  });
}
