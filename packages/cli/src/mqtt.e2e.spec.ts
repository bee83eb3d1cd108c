import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
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
import { readDlq, readTopic, teardown } from '../../../test/cleanup.ts';

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
const STACK_SH = fileURLToPath(new URL('../../../deploy/local/stack.sh', import.meta.url));

/** The local stack's script, on the servers the tests run against (the same GS_* variables). */
async function stack(...args: string[]): Promise<void> {
  await promisify(execFile)('bash', [STACK_SH, ...args]);
}

function startBridge(): ChildProcess {
  const child = spawn(process.execPath, [bridgeMain], {
    env: bridgeEnv,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr?.on('data', (chunk: Buffer) => bridgeLog.push(chunk.toString('utf8')));
  return child;
}

/** Waits for the bridge's `nth` start in this file (every bridge started logs to bridgeLog). */
async function running(child: ChildProcess, nth: number): Promise<void> {
  await eventually(
    `bridge ${nth} running`,
    async () =>
      (bridgeLog.join('').match(/mqtt bridge connected to/g) ?? []).length >= nth
        ? true
        : undefined,
    60_000,
  );
  expect(child.exitCode).toBeNull();
}

beforeAll(async () => {
  const accounts = await MqttAccounts.connect(base);
  const made = await accounts.create(tenant);
  // (a connection of its own at the end: the broker is restarted in between)
  await accounts.close();
  device = { username: made.account.username, password: made.password };
  const mongo = await connectMongo(config);
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
    const admin = await MqttAccounts.connect(base);
    await admin.revoke(device.username);
    await admin.close();
    await reader.close();
  });
});

describe('devices over MQTT, end to end', () => {
  it('loses no reading when the bridge is killed with -9 mid-stream, and stores each format in QuestDB', async () => {
    onTestFailed(() => {
      process.stderr.write(`bridge log:\n${bridgeLog.join('')}\n`);
    });
    let bridge = startBridge();
    await running(bridge, 1);
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
    await running(bridge, 2);
    expect(killedAt).toBeGreaterThan(0);

    // then Kafka has every reading, some perhaps twice (delivered again after the kill)
    const total = DEVICES * PER_DEVICE;
    const expected = Array.from({ length: total }, (_, n) => {
      const i = Math.floor(n / DEVICES);
      return `m-${String(n % DEVICES)} ${new Date(start + i * 1000).toISOString()}`;
    });
    /** The readings expected and not among these (device and time), named in a failure. */
    const missing = (seen: ReadonlySet<string>) => {
      const left = expected.filter((reading) => !seen.has(reading));
      return `${String(left.length)} missing: ${left.slice(0, 25).join(', ')}`;
    };
    const ids = await eventually(
      `${total + 2} readings in Kafka`,
      async () => {
        const records = await readTopic(config, 'readings');
        const seen = new Set(
          records.map((r) => `${r.headers['ce_subject']} ${r.headers['ce_time']}`),
        );
        const distinct = new Set(records.map((r) => r.headers['ce_id'] ?? ''));
        if (distinct.size >= total + 2) return distinct;
        throw new Error(missing(seen));
      },
      60_000,
      1_000,
    );
    expect(ids.size).toBe(total + 2);
    // and every reading is in QuestDB once, the meters' and the other formats'
    const stored = await eventually(
      `${total} meter readings in QuestDB`,
      async () => {
        const rows = await reader.query<{ device_id: string; ts: string | Date }>(
          `SELECT device_id, ts FROM "${table}" WHERE tenant = $1 AND device_id LIKE 'm-%'`,
          [tenant],
        );
        if (rows.length >= total) return rows;
        // (the error names the readings not there yet)
        throw new Error(
          missing(new Set(rows.map((r) => `${r.device_id} ${new Date(r.ts).toISOString()}`))),
        );
      },
      120_000,
      500,
    ).catch(async (error: unknown) => {
      // (a reading in Kafka and not in QuestDB may have been dead-lettered, or be written and
      // not applied yet: say which)
      const letters = await readDlq(config);
      const reasons = letters.slice(0, 5).map((l) => l.headers['x-error'] ?? '?');
      const wal = await reader.query<Record<string, unknown>>(
        'SELECT suspended, writerTxn, sequencerTxn FROM wal_tables() WHERE name = $1',
        [table],
      );
      throw new Error(
        `${(error as Error).message}; ${String(letters.length)} dead letters: ${reasons.join(' | ')}; the table's WAL: ${JSON.stringify(wal)}`,
      );
    });
    expect(stored).toHaveLength(total);
    expect(new Set(stored.map((r) => r.device_id)).size).toBe(DEVICES);
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

  it('loses no reading when the broker is stopped and started again mid-stream', async () => {
    onTestFailed(() => {
      process.stderr.write(`bridge log:\n${bridgeLog.join('')}\n`);
    });
    const bridge = startBridge();
    await running(bridge, 3);
    // given a device that keeps its session and resends what the broker did not acknowledge
    const client = await mqtt.connectAsync(base.url, {
      ...device,
      clientId: `test-device-${suffix}`,
      clean: false,
      reconnectPeriod: 300,
    });
    const DEVICES = 10;
    const PER_DEVICE = 60;
    const start = Date.parse('2026-12-05T09:00:00Z');
    const sent: Promise<unknown>[] = [];
    for (let i = 0; i < PER_DEVICE; i++) {
      for (let d = 0; d < DEVICES; d++)
        sent.push(
          client.publishAsync(
            `gridstream/${tenant}/r-${d}/readings`,
            JSON.stringify({ time: new Date(start + i * 1000).toISOString(), powerW: 100 + i }),
            { qos: 1 },
          ),
        );
      // when the broker is stopped (it writes its sessions and queues to disk) and started again
      if (i === PER_DEVICE / 2) {
        await stack('stop', 'mqtt');
        await stack('start', 'mqtt');
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await Promise.all(sent);
    await client.endAsync();
    // then every reading reaches QuestDB once
    const total = DEVICES * PER_DEVICE;
    const stored = await eventually(
      `${total} readings in QuestDB`,
      async () => {
        const [row] = await reader.query<{ n: number | string }>(
          `SELECT count() n FROM "${table}" WHERE tenant = $1 AND device_id LIKE 'r-%'`,
          [tenant],
        );
        return row !== undefined && Number(row.n) >= total ? row : undefined;
      },
      90_000,
      500,
    );
    expect(Number(stored.n)).toBe(total);
    // (and the bridge connected again after the restart: its fourth connection in this file)
    expect(
      (bridgeLog.join('').match(/mqtt bridge connected to/g) ?? []).length,
    ).toBeGreaterThanOrEqual(4);
    bridge.kill('SIGTERM');
    await once(bridge, 'exit');
  }, 240_000);
});
