import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import mqtt from 'mqtt';
import { connectMongo } from '@gridstream/mongo';
import { endBridgeSession, MqttAccounts, mqttSettings, TopicMappings } from '@gridstream/mqtt';
import { startEnergyProcessor } from '@gridstream/processor-energy';
import { readingsTableName } from '@gridstream/questdb';
import {
  eventually,
  isolatedConfig,
  stackQuestDbReader,
  uniqueSuffix,
} from '../../../test/support.ts';
import { readTopic, teardown } from '../../../test/cleanup.ts';

// Devices over MQTT end to end (Mosquitto → the bridge → Kafka → the energy processor → QuestDB),
// with the bridge a process of its own that is killed with -9 mid-stream.

const config = isolatedConfig();
const stopAfterAll = teardown(config);
const suffix = uniqueSuffix();
const tenant = `mqe-${suffix}`;
const base = mqttSettings();
const bridgeSettings = {
  ...base,
  clientId: `test-bridge-${suffix}`,
  subscription: `gridstream/${tenant}/#`,
};
const table = readingsTableName(config.GS_QDB_TABLE_PREFIX);
const reader = stackQuestDbReader();
let device: { username: string; password: string };

const bridgeEnv = {
  ...process.env,
  GS_KAFKA_BROKERS: config.GS_KAFKA_BROKERS.join(','),
  GS_KAFKA_CLIENT_ID: config.GS_KAFKA_CLIENT_ID,
  GS_TOPIC_PREFIX: config.GS_TOPIC_PREFIX,
  GS_TOPIC_PARTITIONS: String(config.GS_TOPIC_PARTITIONS),
  GS_MONGO_URL: config.GS_MONGO_URL,
  GS_MONGO_DB: config.GS_MONGO_DB,
  GS_MQTT_CLIENT_ID: bridgeSettings.clientId,
  GS_MQTT_SUBSCRIPTION: bridgeSettings.subscription,
};
const bridgeMain = fileURLToPath(new URL('./main.ts', import.meta.resolve('@gridstream/mqtt')));
const bridgeLog: string[] = [];

function startBridge(): ChildProcess {
  const child = spawn(process.execPath, [bridgeMain], {
    env: bridgeEnv,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (chunk: Buffer) => bridgeLog.push(chunk.toString('utf8')));
  return child;
}

async function running(child: ChildProcess): Promise<void> {
  await eventually(
    'the bridge running',
    async () => (bridgeLog.join('').includes('mqtt bridge running') ? true : undefined),
    60_000,
  );
  expect(child.exitCode).toBeNull();
}

beforeAll(async () => {
  const accounts = await MqttAccounts.connect(base);
  const made = await accounts.create(tenant);
  device = { username: made.account.username, password: made.password };
  const mongo = await connectMongo(config.GS_MONGO_URL, config.GS_MONGO_DB);
  const mappings = TopicMappings.open(mongo.db);
  await mappings.put({
    tenant,
    root: `gridstream/${tenant}/shelly/pv`,
    format: 'shelly',
    channel: 0,
    deviceId: 'pv-1',
  });
  await mappings.put({
    tenant,
    root: `gridstream/${tenant}/tasmota/dryer`,
    format: 'tasmota',
    channel: 0,
    deviceId: 'dryer',
  });
  await mongo.close();
  const processor = await startEnergyProcessor(config);
  stopAfterAll(() => processor.stop());
  stopAfterAll(async () => {
    await endBridgeSession(bridgeSettings);
    await accounts.revoke(device.username);
    await accounts.close();
    await reader.close();
  });
});

describe('devices over MQTT, end to end', () => {
  it('loses no reading when the bridge is killed with -9 mid-stream, and stores each format in QuestDB', async () => {
    onTestFailed(() => {
      process.stderr.write(`bridge log:\n${bridgeLog.join('')}\n`);
    });
    let bridge = startBridge();
    await running(bridge);
    const client = await mqtt.connectAsync(base.url, {
      ...device,
      clientId: `test-fleet-${suffix}`,
      reconnectPeriod: 0,
    });
    // given 20 meters, each publishing 100 counter readings a second apart at QoS 1
    const DEVICES = 20;
    const PER_DEVICE = 100;
    const start = Date.parse('2026-12-05T08:00:00Z');
    const sent: Promise<unknown>[] = [];
    let killedAt = -1;
    for (let i = 0; i < PER_DEVICE; i++) {
      for (let d = 0; d < DEVICES; d++)
        sent.push(
          client.publishAsync(
            `gridstream/${tenant}/m-${d}/readings`,
            JSON.stringify({
              time: new Date(start + i * 1000).toISOString(),
              importWh: 1000 * d + i * 2,
              powerW: 7200,
            }),
            { qos: 1 },
          ),
        );
      // when the bridge is killed with -9 a third of the way, and started again
      if (i === Math.floor(PER_DEVICE / 3)) {
        killedAt = sent.length;
        bridge.kill('SIGKILL');
        await once(bridge, 'exit');
        bridge = startBridge();
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    // and one Shelly and one Tasmota device report
    sent.push(
      client.publishAsync(
        `gridstream/${tenant}/shelly/pv/events/rpc`,
        JSON.stringify({
          method: 'NotifyStatus',
          params: {
            ts: start / 1000 + 30,
            'pm1:0': {
              id: 0,
              apower: -2450,
              voltage: 231.2,
              aenergy: { total: 5000 },
              ret_aenergy: { total: 75000.5 },
            },
          },
        }),
        { qos: 1 },
      ),
      client.publishAsync(
        `gridstream/${tenant}/tasmota/dryer/tele/SENSOR`,
        JSON.stringify({
          Time: '2026-12-05T08:00:30+00:00',
          ENERGY: { Total: 321.5, Power: 2100, Voltage: 229, Current: 9.2 },
        }),
        { qos: 1 },
      ),
    );
    await Promise.all(sent);
    await client.endAsync();
    await running(bridge);
    expect(killedAt).toBeGreaterThan(0);

    // then every reading is in QuestDB once, the meters' and the other formats'
    const total = DEVICES * PER_DEVICE;
    const stored = await eventually(
      `${total} meter readings in QuestDB`,
      async () => {
        const [row] = await reader.query<{ n: number | string; devices: number | string }>(
          `SELECT count() n, count_distinct(device_id) devices FROM "${table}" WHERE tenant = $1 AND device_id LIKE 'm-%'`,
          [tenant],
        );
        return row !== undefined && Number(row.n) >= total ? row : undefined;
      },
      90_000,
      500,
    );
    expect(Number(stored.n)).toBe(total);
    expect(Number(stored.devices)).toBe(DEVICES);
    // and Kafka has every reading's id, some perhaps twice (delivered again after the kill)
    const ids = (await readTopic(config, 'readings')).map((r) => r.headers['ce_id'] ?? '');
    expect(new Set(ids).size).toBe(total + 2);
    const others = await eventually('the Shelly and Tasmota rows', async () => {
      const rows = await reader.query<{
        device_id: string;
        power_w: number;
        import_wh: number;
        export_wh: number | null;
      }>(
        `SELECT device_id, power_w, import_wh, export_wh FROM "${table}" WHERE tenant = $1 AND device_id IN ('pv-1', 'dryer') ORDER BY device_id`,
        [tenant],
      );
      return rows.length === 2 ? rows : undefined;
    });
    expect(others).toEqual([
      { device_id: 'dryer', power_w: 2100, import_wh: 321500, export_wh: null },
      { device_id: 'pv-1', power_w: -2450, import_wh: 5000, export_wh: 75000.5 },
    ]);
    bridge.kill('SIGTERM');
    await once(bridge, 'exit');
  }, 240_000);
});
