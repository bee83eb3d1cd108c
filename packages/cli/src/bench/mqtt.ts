import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import type { Config } from '@gridstream/config';
import { EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import {
  fetchEndOffsets,
  createKafka,
  kafkaSettings,
  createTopicsIfMissing,
  topicNames,
} from '@gridstream/kafka';
import { endBridgeSession, MqttAccounts, mqttSettings } from '@gridstream/mqtt';
import { committedReadings, ENERGY_PROCESSOR_NODE_FLAGS } from '@gridstream/processor-energy';
import { serviceArgv, serviceNamed } from '../services.ts';
import { loadEvents } from './load.ts';
import { cpuSeconds, formatRate, localStackPid, peakRssMiB } from './measure.ts';

export interface MqttBenchOptions {
  /** Simulated devices, each an MQTT connection of its own. */
  readonly devices: number;
  readonly readings: number;
  /** Readings one message carries (the gridstream format takes a batch); 1: one a message. */
  readonly perMessage: number;
  /** Leave the energy processor out: the rate into Kafka of the MQTT path alone. */
  readonly kafkaOnly: boolean;
  /** Where the bridge writes a V8 CPU profile (--cpu-prof). */
  readonly profileDir?: string | undefined;
  readonly log: (line: string) => void;
}

const TENANT = 'bench';
const BRIDGE_SERVICE = serviceNamed('mqtt-bridge') ?? {
  name: 'mqtt-bridge',
  entry: '@gridstream/mqtt',
  nodeFlags: [],
  memoryMiB: 512,
};
const START_MS = Date.UTC(2026, 0, 1);
const deviceId = (n: number) => `bench-mqtt-${String(n).padStart(5, '0')}`;

function registration(n: number): GridstreamEvent {
  return {
    id: `00000000-0000-7000-8004-${n.toString(16).padStart(12, '0')}`,
    type: EventType.deviceRegistered,
    source: 'bench',
    subject: deviceId(n),
    time: new Date(START_MS).toISOString(),
    tenant: TENANT,
    data: {
      deviceId: deviceId(n),
      siteId: `bench-site-${Math.floor(n / 6)}`,
      kind: 'smart_plug',
      role: 'consumer',
      name: `Plug ${n}`,
      timeZone: 'Europe/Berlin',
    },
  };
}

/** A message of device `n`: readings `step`… of it, a second apart. */
function payload(n: number, step: number, count: number): string {
  const readings = [];
  for (let k = 0; k < count; k++) {
    const s = step + k;
    readings.push({
      time: new Date(START_MS + s * 1000).toISOString(),
      powerW: 40 + ((n * 7 + s) % 60),
      importWh: 10_000 + s * 0.02,
    });
  }
  return JSON.stringify(count === 1 ? readings[0] : { readings });
}

function startChild(
  entry: string,
  flags: readonly string[],
  env: Record<string, string>,
): ChildProcess {
  return spawn(process.execPath, [...flags, entry], {
    env: { ...process.env, GS_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

/**
 * `gridstream bench mqtt`: `devices` simulated devices, each its own MQTT connection with the
 * tenant's account, publish `readings` readings at QoS 1 as fast as the broker takes them; the
 * bridge (its own process) puts them into Kafka and the energy processor (its own process) into
 * QuestDB. Prints readings/s into Kafka and committed in QuestDB, the bridge's CPU per reading and
 * its peak RSS.
 */
export async function benchMqtt(config: Config, options: MqttBenchOptions): Promise<void> {
  const { log } = options;
  const settings = mqttSettings();
  const messagesPerDevice = Math.ceil(options.readings / options.devices / options.perMessage);
  const total = messagesPerDevice * options.perMessage * options.devices;
  log(
    `bench mqtt: ${options.devices.toLocaleString('en-US')} devices × ${messagesPerDevice} messages × ${options.perMessage} reading(s) = ${total.toLocaleString('en-US')} readings, QoS 1`,
  );
  const kafka = createKafka(kafkaSettings(config, 'bench-mqtt'));
  const topics = topicNames(config.GS_TOPIC_PREFIX);
  await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS);
  await loadEvents(config, 'devices', options.devices, registration);

  const accounts = await MqttAccounts.connect(settings);
  const { account, password } = await accounts.create(TENANT, 'bench mqtt');
  const bridgeSettings = {
    ...settings,
    clientId: `${config.GS_TOPIC_PREFIX}bridge`.replace(/[^A-Za-z0-9-]/g, '-'),
    subscription: `gridstream/${TENANT}/#`,
  };
  const env = {
    GS_TOPIC_PREFIX: config.GS_TOPIC_PREFIX,
    GS_QDB_TABLE_PREFIX: config.GS_QDB_TABLE_PREFIX,
    GS_MONGO_DB: config.GS_MONGO_DB,
  };
  // The bridge as `gridstream up` runs it: its service's node flags and memory bound.
  const bridgeArgv = serviceArgv(BRIDGE_SERVICE);
  const bridge = startChild(
    bridgeArgv.at(-1) ?? '',
    [
      ...bridgeArgv.slice(0, -1),
      ...(options.profileDir === undefined
        ? []
        : ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`]),
    ],
    {
      ...BRIDGE_SERVICE.defaultEnv,
      ...env,
      GS_MQTT_CLIENT_ID: bridgeSettings.clientId,
      GS_MQTT_SUBSCRIPTION: bridgeSettings.subscription,
    },
  );
  // Without the energy processor the bench measures the MQTT path alone: devices, broker, bridge, Kafka.
  const processor = options.kafkaOnly
    ? undefined
    : startChild(
        fileURLToPath(new URL('./main.ts', import.meta.resolve('@gridstream/processor-energy'))),
        ENERGY_PROCESSOR_NODE_FLAGS,
        env,
      );
  const clients: MqttClient[] = [];
  const admin = kafka.admin();
  await admin.connect();
  try {
    // the devices connect, 100 at a time
    const connectStarted = Date.now();
    for (let from = 0; from < options.devices; from += 100) {
      const batch = [];
      for (let n = from; n < Math.min(from + 100, options.devices); n++)
        batch.push(
          mqtt.connectAsync(settings.url, {
            username: account.username,
            password,
            clientId: `${deviceId(n)}-${config.GS_TOPIC_PREFIX}`.slice(0, 64),
            reconnectPeriod: 0,
            keepalive: 120,
          }),
        );
      clients.push(...(await Promise.all(batch)));
    }
    log(
      `  ${clients.length} devices connected in ${((Date.now() - connectStarted) / 1000).toFixed(1)} s`,
    );

    // CPU seconds of every process on the path, before and after the load
    const pids = {
      'device simulator (this process)': process.pid,
      broker: await localStackPid(config.GS_HOME, 'mqtt'),
      bridge: bridge.pid,
      Kafka: await localStackPid(config.GS_HOME, 'kafka'),
      'energy processor': processor?.pid,
      QuestDB: await localStackPid(config.GS_HOME, 'questdb'),
    };
    const cpuNow = async () =>
      Promise.all(
        Object.values(pids).map(async (pid) => (pid === undefined ? undefined : cpuSeconds(pid))),
      );
    const cpuBefore = await cpuNow();
    let bridgePeak = 0;
    const sampler = setInterval(() => {
      void peakRssMiB(bridge.pid ?? -1).then((mib) => {
        bridgePeak = Math.max(bridgePeak, mib ?? 0);
      });
    }, 500);
    const readingsTopic = topics.readings;
    const inKafka = async () =>
      (await fetchEndOffsets(admin, readingsTopic)).reduce((sum, p) => sum + Number(p.high), 0);
    const started = Date.now();
    // every device publishes its next message once the broker acknowledged its last
    let published = 0;
    await Promise.all(
      clients.map(async (client, n) => {
        const topic = `gridstream/${TENANT}/${deviceId(n)}/readings`;
        for (let m = 0; m < messagesPerDevice; m++) {
          await client.publishAsync(topic, payload(n, m * options.perMessage, options.perMessage), {
            qos: 1,
          });
          published += options.perMessage;
        }
      }),
    );
    const publishedMs = Date.now() - started;
    log(
      `  published ${published.toLocaleString('en-US')} readings in ${(publishedMs / 1000).toFixed(1)} s (${formatRate(published, publishedMs)} acknowledged by the broker)`,
    );
    let kafkaMs: number | undefined;
    let committedMs: number | undefined;
    const deadline = Date.now() + 10 * 60_000;
    while ((options.kafkaOnly ? kafkaMs : committedMs) === undefined && Date.now() < deadline) {
      if (kafkaMs === undefined && (await inKafka()) >= total) kafkaMs = Date.now() - started;
      if (!options.kafkaOnly && (await committedReadings(config, admin)) >= total)
        committedMs = Date.now() - started;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (options.kafkaOnly) committedMs = kafkaMs;
    clearInterval(sampler);
    const cpuAfter = await cpuNow();
    const cpuUsed = Object.keys(pids).map((name, i) => {
      const before = cpuBefore[i];
      const after = cpuAfter[i];
      return [
        name,
        before === undefined || after === undefined ? undefined : after - before,
      ] as const;
    });
    const bridgeCpu = cpuUsed.find(([name]) => name === 'bridge')?.[1] ?? 0;
    bridgePeak = Math.max(bridgePeak, (await peakRssMiB(bridge.pid ?? -1)) ?? 0);
    kafkaMs ??= committedMs;
    if (kafkaMs === undefined || committedMs === undefined)
      throw new Error(
        `not every reading was committed within 10 minutes (${await committedReadings(config, admin)} of ${total})`,
      );
    log(
      `  into Kafka (the bridge's publish acknowledged): ${formatRate(total, kafkaMs)} (${(kafkaMs / 1000).toFixed(1)} s)`,
    );
    if (!options.kafkaOnly)
      log(
        `  committed in QuestDB by the energy processor: ${formatRate(total, committedMs)} (${(committedMs / 1000).toFixed(1)} s)`,
      );
    log(
      `  bridge: ${((bridgeCpu / total) * 1e6).toFixed(1)} µs CPU a reading (${bridgeCpu.toFixed(1)} s), peak RSS ${bridgePeak.toFixed(0)} MiB`,
    );
    log(
      `  CPU a reading, from the first publish until all were committed: ${cpuUsed
        .map(
          ([name, seconds]) =>
            `${name} ${seconds === undefined ? 'n/a' : `${((seconds / total) * 1e6).toFixed(1)} µs`}`,
        )
        .join(', ')}`,
    );
  } finally {
    await Promise.allSettled(clients.map((client) => client.endAsync()));
    bridge.kill('SIGTERM');
    processor?.kill('SIGTERM');
    await endBridgeSession(bridgeSettings).catch(() => undefined);
    await accounts.revoke(account.username).catch(() => undefined);
    await accounts.close();
    await admin.disconnect();
  }
}
