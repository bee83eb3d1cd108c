import { parseArgs } from 'node:util';
import { ApiKeyStore, parseScopes } from '@gridstream/api';
import type { ApiKeyRecord, Scope } from '@gridstream/api';
import type { Config } from '@gridstream/config';
import { EntityId } from '@gridstream/events';
import { connectMongo } from '@gridstream/mongo';

export const KEYS_USAGE = `usage: gridstream keys <create|list|revoke> [options]

  keys create --tenant T --scopes read,ingest,command,admin [--name N]
             make a key bound to tenant T; it is printed once (stdout) and only its hash is kept
  keys list [--tenant T]
             every key (of T): id, tenant, scopes, name, created, revoked
  keys revoke ID
             revoke a key by its id (the 12 hex digits after gs_); a running API stops
             accepting it within 5 seconds
  keys mqtt create|list|revoke
             tenants' MQTT accounts (keys mqtt --help)`;

/** Makes a key in the configured MongoDB; `up` and `simulate` use it for the demo fleet. */
export async function createApiKey(
  config: Config,
  request: { tenant: string; scopes: readonly Scope[]; name?: string },
): Promise<{ key: string; record: ApiKeyRecord }> {
  const mongo = await connectMongo(config);
  try {
    return await (await ApiKeyStore.open(mongo.db)).create(request);
  } finally {
    await mongo.close();
  }
}

function describe(record: ApiKeyRecord): string {
  const revoked = record.revokedAt === undefined ? '' : `  revoked ${record.revokedAt}`;
  const name = record.name === '' ? '' : `  '${record.name}'`;
  return `${record.keyId}  tenant ${record.tenant}  scopes ${record.scopes.join(',')}${name}  created ${record.createdAt}${revoked}`;
}

/** `gridstream keys ...`; throws RangeError for a usage mistake. */
export async function keysCommand(
  config: Config,
  argv: readonly string[],
  out: (line: string) => void,
): Promise<void> {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      scopes: { type: 'string' },
      name: { type: 'string' },
    },
  });
  const [action, id] = positionals;
  if (action === 'create') {
    if (!EntityId.safeParse(values.tenant).success)
      throw new RangeError('--tenant T is required: letters, digits and . _ : - only');
    const scopes = parseScopes(values.scopes ?? '');
    const { key, record } = await createApiKey(config, {
      tenant: values.tenant ?? '',
      scopes,
      ...(values.name === undefined ? {} : { name: values.name }),
    });
    process.stderr.write(`${describe(record)}\nthe key (shown once, keep it):\n`);
    out(key);
    return;
  }
  const mongo = await connectMongo(config);
  try {
    const store = await ApiKeyStore.open(mongo.db);
    if (action === 'list') {
      for (const record of await store.list(values.tenant)) out(describe(record));
      return;
    }
    if (action === 'revoke') {
      if (id === undefined) throw new RangeError('revoke which key? name its id');
      if (!(await store.revoke(id)))
        throw new RangeError(`no live key with id '${id}' (see gridstream keys list)`);
      out(`revoked ${id}`);
      return;
    }
  } finally {
    await mongo.close();
  }
  throw new RangeError(`unknown keys action '${action ?? ''}'`);
}
