import { parseArgs } from 'node:util';
import type { Config } from '@gridstream/config';
import { EntityId, TimeZone } from '@gridstream/events';
import { connectMongo } from '@gridstream/mongo';
import { MqttAccounts, mqttSettings, TopicMappings, tenantTopicFilter } from '@gridstream/mqtt';
import type { MappedFormat, MqttAccount } from '@gridstream/mqtt';

export const MQTT_KEYS_USAGE = `usage: gridstream keys mqtt <create|list|revoke> [options]

  keys mqtt create --tenant T [--name N]
             make an MQTT account of tenant T: it may publish and subscribe under
             gridstream/T/ and nowhere else; its username and password are printed once
  keys mqtt list [--tenant T]
             every tenant's MQTT accounts (or T's)
  keys mqtt revoke USERNAME
             delete an account; a device connected with it is disconnected at once`;

export const MQTT_USAGE = `usage: gridstream mqtt <map|unmap|maps> [options]

  mqtt map --tenant T --topic ROOT --format shelly|tasmota --device D [--channel N] [--time-zone Z]
             readings of channel N (default 0) of the device publishing under ROOT
             (gridstream/T/shelly/<name> or gridstream/T/tasmota/<topic>) are device D's;
             --time-zone: the zone of a clock that sends local times without an offset (Tasmota)
  mqtt unmap --tenant T --topic ROOT [--channel N]
  mqtt maps [--tenant T]
             the topic mappings (docs/mqtt.md)
  mqtt provision
             make the bridge's account (GS_MQTT_USERNAME, GS_MQTT_PASSWORD) as the broker's
             admin (GS_MQTT_ADMIN_PASSWORD), for a broker the local stack did not start`;

function tenantOption(value: string | undefined): string {
  if (!EntityId.safeParse(value).success)
    throw new RangeError('--tenant T is required: letters, digits and . _ : - only');
  return value ?? '';
}

function describeAccount(account: MqttAccount): string {
  const name = account.name === '' ? '' : `  '${account.name}'`;
  return `${account.username}  tenant ${account.tenant}  topics ${tenantTopicFilter(account.tenant)}${name}${account.disabled ? '  disabled' : ''}`;
}

/** `gridstream keys mqtt ...`; throws RangeError for a usage mistake. */
export async function mqttKeysCommand(
  argv: readonly string[],
  out: (line: string) => void,
): Promise<void> {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: { tenant: { type: 'string' }, name: { type: 'string' } },
  });
  const [action, username] = positionals;
  if (!['create', 'list', 'revoke'].includes(action ?? ''))
    throw new RangeError(`unknown keys mqtt action '${action ?? ''}'`);
  const tenant = action === 'create' ? tenantOption(values.tenant) : values.tenant;
  const accounts = await MqttAccounts.connect(mqttSettings());
  try {
    if (action === 'create') {
      const { account, password } = await accounts.create(tenant ?? '', values.name ?? '');
      process.stderr.write(`${describeAccount(account)}\nthe password (shown once, keep it):\n`);
      out(`username ${account.username}`);
      out(`password ${password}`);
    } else if (action === 'list') {
      for (const account of await accounts.list(tenant)) out(describeAccount(account));
    } else {
      if (username === undefined) throw new RangeError('revoke which account? name its username');
      if (!(await accounts.revoke(username)))
        throw new RangeError(
          `no tenant's MQTT account '${username}' (see gridstream keys mqtt list)`,
        );
      out(`revoked ${username}`);
    }
  } finally {
    await accounts.close();
  }
}

function channelOption(value: string | undefined): number {
  const channel = Number(value ?? '0');
  if (!Number.isInteger(channel) || channel < 0 || channel > 255 || value === '')
    throw new RangeError(`--channel must be an integer 0–255, not '${value}'`);
  return channel;
}

/** `gridstream mqtt ...`: the topic mappings; throws RangeError for a usage mistake. */
export async function mqttCommand(
  config: Config,
  argv: readonly string[],
  out: (line: string) => void,
): Promise<void> {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      topic: { type: 'string' },
      format: { type: 'string' },
      device: { type: 'string' },
      channel: { type: 'string' },
      'time-zone': { type: 'string' },
    },
  });
  const [action] = positionals;
  if (action === 'provision') {
    const settings = mqttSettings();
    if (settings.password === undefined) throw new RangeError('set GS_MQTT_PASSWORD first');
    const accounts = await MqttAccounts.connect(settings);
    try {
      await accounts.provisionBridge(settings.username, settings.password);
    } finally {
      await accounts.close();
    }
    out(`the bridge's account ${settings.username} is ready`);
    return;
  }
  if (!['map', 'unmap', 'maps'].includes(action ?? ''))
    throw new RangeError(`unknown mqtt action '${action ?? ''}'`);
  let put: Parameters<TopicMappings['put']>[0] | undefined;
  if (action === 'map') {
    const format = values.format;
    if (format !== 'shelly' && format !== 'tasmota')
      throw new RangeError('--format must be shelly or tasmota');
    if (!EntityId.safeParse(values.device).success)
      throw new RangeError('--device D is required: letters, digits and . _ : - only');
    const zone = values['time-zone'];
    if (zone !== undefined && !TimeZone.safeParse(zone).success)
      throw new RangeError(`--time-zone ${zone} is not an IANA time zone`);
    put = {
      tenant: tenantOption(values.tenant),
      root: values.topic ?? '',
      format: format satisfies MappedFormat,
      channel: channelOption(values.channel),
      deviceId: values.device ?? '',
      ...(zone === undefined ? {} : { timeZone: zone }),
    };
  }
  const mongo = await connectMongo(config);
  try {
    const mappings = TopicMappings.open(mongo.db);
    if (put !== undefined) {
      await mappings.put(put);
      out(`mapped ${put.root} channel ${put.channel} (${put.format}) to device ${put.deviceId}`);
    } else if (action === 'unmap') {
      const tenant = tenantOption(values.tenant);
      const channel = channelOption(values.channel);
      if (!(await mappings.remove(tenant, values.topic ?? '', channel)))
        throw new RangeError(
          `no mapping of ${values.topic ?? '?'} channel ${channel} for tenant ${tenant}`,
        );
      out(`unmapped ${values.topic ?? ''} channel ${channel}`);
    } else {
      for (const m of await mappings.list(values.tenant))
        out(
          `${m.tenant}  ${m.root}  channel ${m.channel}  ${m.format}  device ${m.deviceId}${m.timeZone === undefined ? '' : `  clock ${m.timeZone}`}`,
        );
    }
  } finally {
    await mongo.close();
  }
}
