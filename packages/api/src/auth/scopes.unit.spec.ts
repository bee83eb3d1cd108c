import { describe, expect, it } from 'vitest';
import { grants, parseScopes } from './scopes.ts';

describe('scopes', () => {
  it('grants a route to a key holding its scope, or admin, and to no other', () => {
    expect(grants(['read'], 'read')).toBe(true);
    expect(grants(['admin'], 'command')).toBe(true);
    expect(grants(['read', 'ingest'], 'command')).toBe(false);
    expect(grants([], 'read')).toBe(false);
  });

  it('parses the CLI list, refusing an unknown or empty one by name', () => {
    expect(parseScopes('read, ingest,command')).toEqual(['read', 'ingest', 'command']);
    expect(() => parseScopes('read,write')).toThrow(/unknown scope 'write'/);
    expect(() => parseScopes('')).toThrow(RangeError);
  });
});
