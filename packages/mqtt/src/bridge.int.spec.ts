import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import { eventually, isolatedConfig, uniqueSuffix } from '../../../test/support.ts';
import { readDlq, readTopic, teardown } from '../../../test/cleanup.ts';
import { connectMongo } from '@gridstream/mongo';
import { endBridgeSession, startMqttBridge } from './bridge.ts';
import type { MqttBridge } from './bridge.ts';
import { MqttAccounts } from './accounts.ts';
import { mqttSettings } from './settings.ts';
import type { MqttSettings } from './settings.ts';
import { TopicMappings } from './topic-map.ts';

// The bridge against the real Mosquitto (the local stack's, with its dynamic security plugin),
// Kafka and FerretDB: each tenant's own account, the formats into Kafka, dead letters, the ACLs.

const config = isolatedConfig();
const stopAfterAll = teardown(config);
const suffix = uniqueSuffix();
const tenant = `mq-${suffix}`;
const other = `mq-other-${suffix}`;
const base = mqttSettings();
const settings: MqttSettings = {
  ...base,
  clientId: `test-bridge-${suffix}`,
  subscription: `gridstream/${tenant}/#`,
  batchMs: 5,
};
if (base.password === undefined || base.adminPassword === undefined)
  throw new Error(
    'these tests need the local stack’s Mosquitto and its accounts (./gridstream stack start makes them in .gridstream/data/mosquitto)',
  );

let accounts: MqttAccounts;
let device: { username: string; password: string };
let bridge: MqttBridge;
const revoke: string[] = [];

async function connectAs(
  credentials: { username: string; password: string },
  protocolVersion: 4 | 5 = 4,
): Promise<MqttClient> {
  return mqtt.connectAsync(base.url, {
    ...credentials,
    clientId: `test-device-${uniqueSuffix()}`,
    protocolVersion,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
  });
}

beforeAll(async () => {
  accounts = await MqttAccounts.connect(base);
  const made = await accounts.create(tenant, 'test devices');
  device = { username: made.account.username, password: made.password };
  revoke.push(made.account.username);
  const mongo = await connectMongo(config);
  const mappings = TopicMappings.open(mongo.db);
  await mappings.put({
    tenant,
    root: `gridstream/${tenant}/shelly/hall`,
    format: 'shelly',
    channel: 0,
    deviceId: 'hall-light',
  });
  await mappings.put({
    tenant,
    root: `gridstream/${tenant}/shelly/hall`,
    format: 'shelly',
    channel: 1,
    deviceId: 'hall-fan',
  });
  await mappings.put({
    tenant,
    root: `gridstream/${tenant}/tasmota/plug7`,
    format: 'tasmota',
    channel: 0,
    deviceId: 'kettle',
    timeZone: 'Europe/Paris',
  });
  await mongo.close();
  bridge = await startMqttBridge(config, settings, () => undefined);
  await eventually('the bridge connected', async () => (bridge.connected() ? true : undefined));
  stopAfterAll(async () => {
    await bridge.stop();
    await endBridgeSession(settings);
    for (const username of revoke) await accounts.revoke(username);
    await accounts.close();
  });
});

afterAll(() => undefined);

interface Published {
  readonly subject: string;
  readonly source: string;
  readonly time: string;
  readonly data: Record<string, unknown>;
}

async function readingsOf(deviceIds: readonly string[], count: number): Promise<Published[]> {
  return eventually(`${count} readings of ${deviceIds.join(', ')} in Kafka`, async () => {
    const all = (await readTopic(config, 'readings')).map((record) => ({
      subject: record.headers['ce_subject'] ?? '',
      source: record.headers['ce_source'] ?? '',
      time: record.headers['ce_time'] ?? '',
      data: JSON.parse(record.value) as Record<string, unknown>,
    }));
    const mine = all.filter((r) => deviceIds.includes(r.subject));
    return mine.length >= count ? mine : undefined;
  });
}

describe('the MQTT bridge on the real Mosquitto and Kafka', () => {
  it('publishes gridstream, Shelly and Tasmota payloads as readings, in units gridstream uses', async () => {
    const client = await connectAs(device);
    try {
      // given a device of each format publishing at QoS 1 under the tenant's topics
      await client.publishAsync(
        `gridstream/${tenant}/meter-1/readings`,
        JSON.stringify({ time: '2026-12-05T10:00:00Z', importWh: 1500, powerW: 420 }),
        { qos: 1 },
      );
      await client.publishAsync(
        `gridstream/${tenant}/meter-1/readings`,
        JSON.stringify({
          readings: [
            { time: '2026-12-05T10:00:10Z', importWh: 1501.2 },
            { time: '2026-12-05T10:00:20Z', importWh: 1502.4, powerW: 432 },
          ],
        }),
        { qos: 1 },
      );
      await client.publishAsync(
        `gridstream/${tenant}/shelly/hall/events/rpc`,
        JSON.stringify({
          src: 'shellyplus2pm-a8032ab12345',
          dst: `gridstream/${tenant}/shelly/hall/events`,
          method: 'NotifyStatus',
          params: {
            ts: Date.parse('2026-12-05T10:00:00.250Z') / 1000,
            'switch:0': {
              id: 0,
              apower: 61.5,
              voltage: 229.4,
              current: 0.27,
              aenergy: { total: 8123.456 },
            },
            'switch:1': { id: 1, apower: 12, aenergy: { total: 99.5 } },
          },
        }),
        { qos: 1 },
      );
      await client.publishAsync(
        `gridstream/${tenant}/tasmota/plug7/tele/SENSOR`,
        JSON.stringify({
          Time: '2026-12-05T11:30:00',
          ENERGY: {
            TotalStartTime: '2026-01-01T00:00:00',
            Total: 12.345,
            Yesterday: 0.2,
            Today: 0.1,
            Power: 1850,
            Voltage: 231,
            Current: 8.01,
          },
        }),
        { qos: 1 },
      );
    } finally {
      await client.endAsync();
    }
    // then each reading is in Kafka, keyed and timed as it was measured
    const readings = await readingsOf(['meter-1', 'hall-light', 'hall-fan', 'kettle'], 6);
    const by = (subject: string) => readings.filter((r) => r.subject === subject);
    expect(by('meter-1').map((r) => [r.time, r.data.importWh, r.source])).toEqual([
      ['2026-12-05T10:00:00.000Z', 1500, '/mqtt/gridstream'],
      ['2026-12-05T10:00:10.000Z', 1501.2, '/mqtt/gridstream'],
      ['2026-12-05T10:00:20.000Z', 1502.4, '/mqtt/gridstream'],
    ]);
    expect(by('hall-light')).toMatchObject([
      {
        time: '2026-12-05T10:00:00.250Z',
        source: '/mqtt/shelly',
        data: {
          deviceId: 'hall-light',
          powerW: 61.5,
          importWh: 8123.456,
          voltageV: 229.4,
          currentA: 0.27,
        },
      },
    ]);
    expect(by('hall-fan')[0]?.data).toMatchObject({ powerW: 12, importWh: 99.5 });
    // Tasmota: kWh → Wh, and a local time without offset read in the mapping's zone (CET, +01:00)
    expect(by('kettle')).toMatchObject([
      {
        time: '2026-12-05T10:30:00.000Z',
        source: '/mqtt/tasmota',
        data: { powerW: 1850, importWh: 12345, voltageV: 231 },
      },
    ]);
    expect(bridge.stats().readings).toBeGreaterThanOrEqual(6);
  });

  it('dead-letters what does not map, with the raw payload, the MQTT topic and the reason', async () => {
    const client = await connectAs(device);
    try {
      await client.publishAsync(`gridstream/${tenant}/meter-2/readings`, '{"importWh": 12', {
        qos: 1,
      });
      await client.publishAsync(
        `gridstream/${tenant}/meter-2/readings`,
        JSON.stringify({ time: '2026-12-05T10:00:00Z', importWh: -5 }),
        { qos: 1 },
      );
      await client.publishAsync(
        `gridstream/${tenant}/shelly/attic/events/rpc`,
        JSON.stringify({
          method: 'NotifyStatus',
          params: { ts: 1764928800, 'switch:0': { apower: 3, aenergy: { total: 1 } } },
        }),
        { qos: 1 },
      );
      // and a good reading after them
      await client.publishAsync(
        `gridstream/${tenant}/meter-2/readings`,
        JSON.stringify({ time: '2026-12-05T10:01:00Z', importWh: 7 }),
        { qos: 1 },
      );
    } finally {
      await client.endAsync();
    }
    const letters = await eventually('three dead letters', async () => {
      const all = (await readDlq(config)).filter(
        (l) => l.headers['x-consumer-group'] === 'mqtt-bridge',
      );
      return all.length >= 3 ? all : undefined;
    });
    // (a letter is keyed by its MQTT topic: letters of two topics may be in two partitions)
    expect(
      letters
        .map((l) => [l.headers['x-mqtt-topic'], l.headers['x-reason']])
        .sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
    ).toEqual([
      [`gridstream/${tenant}/meter-2/readings`, 'invalid-reading'],
      [`gridstream/${tenant}/meter-2/readings`, 'not-json'],
      [`gridstream/${tenant}/shelly/attic/events/rpc`, 'not-mapped'],
    ]);
    expect(letters.find((l) => l.headers['x-reason'] === 'not-json')?.value).toBe(
      '{"importWh": 12',
    );
    expect(
      letters.find((l) => l.headers['x-reason'] === 'invalid-reading')?.headers['x-error'],
    ).toMatch(/importWh/);
    expect(letters.every((l) => l.headers['x-source-topic']?.startsWith('mqtt:gridstream/'))).toBe(
      true,
    );
    // the good reading after the bad ones is there: nothing stops the stream
    const [after] = await readingsOf(['meter-2'], 1);
    expect(after?.data.importWh).toBe(7);
  });

  it('refuses anonymous clients, wrong passwords and another tenant’s topics', async () => {
    await expect(
      mqtt.connectAsync(base.url, { reconnectPeriod: 0, connectTimeout: 5_000 }),
    ).rejects.toThrow(/not authori[sz]ed/i);
    await expect(connectAs({ username: device.username, password: 'wrong' })).rejects.toThrow(
      /not authori[sz]ed/i,
    );
    // another tenant's account may neither publish nor subscribe under this tenant's topics
    const made = await accounts.create(other);
    revoke.push(made.account.username);
    const intruder = await connectAs(
      { username: made.account.username, password: made.password },
      5,
    );
    try {
      await expect(
        intruder.publishAsync(
          `gridstream/${tenant}/meter-9/readings`,
          JSON.stringify({ time: '2026-12-05T10:00:00Z', importWh: 1 }),
          { qos: 1 },
        ),
      ).rejects.toThrow(/135|not authori[sz]ed/i);
      await expect(intruder.subscribeAsync(`gridstream/${tenant}/#`, { qos: 1 })).rejects.toThrow(
        /not authori[sz]ed/i,
      );
      // its own topics are open to it
      const own = await intruder.subscribeAsync(`gridstream/${other}/#`, { qos: 1 });
      expect(own[0]?.qos).toBe(1);
    } finally {
      await intruder.endAsync();
    }
    // and a revoked account is refused
    await accounts.revoke(made.account.username);
    await expect(
      connectAs({ username: made.account.username, password: made.password }),
    ).rejects.toThrow(/not authori[sz]ed/i);
    // nothing of the intruder reached Kafka
    const readings = (await readTopic(config, 'readings')).filter(
      (r) => r.headers['ce_subject'] === 'meter-9',
    );
    expect(readings).toEqual([]);
  });
});
