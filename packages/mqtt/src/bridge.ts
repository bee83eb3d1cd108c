import mqtt from 'mqtt';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { eventTimeBounds, topicRetention } from '@gridstream/config';
import type { Config } from '@gridstream/config';
import { isRetriable } from '@gridstream/errors';
import {
  createEventPublisher,
  createKafka,
  kafkaSettings,
  createTopicsIfMissing,
  DeadLetterWriter,
  topicMaxMessageBytes,
  topicNames,
} from '@gridstream/kafka';
import type { DeadLetter } from '@gridstream/kafka';
import { connectMongo } from '@gridstream/mongo';
import { decode, routeTopic } from './formats/index.ts';
import { readingEvents } from './readings.ts';
import type { ReadingEvent } from './readings.ts';
import { mqttSettings } from './settings.ts';
import type { MqttSettings } from './settings.ts';
import { MappingCache, TopicMappings } from './topic-map.ts';

/** The consumer group its dead letters name (x-consumer-group). */
export const BRIDGE_GROUP = 'mqtt-bridge';

/** One MQTT message the bridge has not acknowledged yet. */
interface Received {
  readonly topic: string;
  readonly payload: Buffer;
  readonly receivedAtMs: number;
  /** Its number in this process: a dead letter written, then tried again, is not written twice. */
  readonly seq: number;
  /** The PUBACK that tells the broker it may forget the message; undefined at QoS 0. */
  readonly ack: (() => void) | undefined;
}

/** MQTT.js's own writer of packets (it has no public way to send a PUBACK later). */
interface PacketWriter {
  _sendPacket(packet: { cmd: 'puback'; messageId: number; reasonCode: number }): void;
}

const DEFERRED = new Error('acknowledged once Kafka has it');

export interface BridgeStats {
  /** MQTT messages acknowledged to the broker, readings published, messages dead-lettered. */
  readonly messages: number;
  readonly readings: number;
  readonly deadLetters: number;
}

export interface MqttBridge {
  stats(): BridgeStats;
  connected(): boolean;
  stop(): Promise<void>;
}

/**
 * The MQTT bridge: subscribes to `gridstream/#` at QoS 1 in a persistent session (clean: false,
 * a fixed client id), turns each message into reading events (formats/), publishes them to Kafka
 * (acks=all) or dead-letters the message with its raw payload, MQTT topic and reason, and only
 * then sends the message's PUBACK. A bridge, broker or Kafka that stops therefore loses nothing:
 * the broker keeps every unacknowledged message of the session and delivers it again; a message
 * delivered twice publishes the same event ids (readings.ts), which downstream deduplicates.
 *
 * MQTT.js hands over one message at a time and sends its PUBACK when the handler calls back; a
 * handler that waited for Kafka would publish one message per round trip. So the handler takes
 * the message and calls back at once with an error (no PUBACK), and the bridge sends the PUBACK
 * itself once the message's batch is in Kafka. PUBACKs of a connection that has since dropped are
 * not sent: a packet id is the connection's, and the broker delivers those messages again.
 */
export async function startMqttBridge(
  config: Config,
  settings: MqttSettings = mqttSettings(),
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<MqttBridge> {
  if (settings.password === undefined)
    throw new Error(
      'no MQTT password for the bridge: set GS_MQTT_PASSWORD (the local stack keeps it in GS_HOME/data/mosquitto/bridge.secret once the broker has started)',
    );
  const names = topicNames(config.GS_TOPIC_PREFIX);
  const kafka = createKafka(kafkaSettings(config, `${config.GS_KAFKA_CLIENT_ID}-mqtt-bridge`));
  await createTopicsIfMissing(kafka, names, config.GS_TOPIC_PARTITIONS, topicRetention(config));
  const publisher = await createEventPublisher(kafka, names);
  let maxLetterBytes: Promise<number> | undefined;
  const letters = new DeadLetterWriter(
    kafka,
    BRIDGE_GROUP,
    names.dlq,
    () => (maxLetterBytes ??= topicMaxMessageBytes(kafka, names.dlq)),
  );
  const mongo = await connectMongo(config);
  const mappings = new MappingCache(TopicMappings.open(mongo.db));
  const bounds = eventTimeBounds(config);

  let pending: Received[] = [];
  let wake: (() => void) | undefined;
  let stopping = false;
  let received = 0;
  /** The most messages received and not yet acknowledged at once (the broker's in-flight window). */
  let mostPending = 0;
  /** The callback of the message that found too many waiting: MQTT.js reads on once it is called. */
  let held: (() => void) | undefined;
  let counts = { messages: 0, readings: 0, deadLetters: 0 };

  const client: MqttClient = mqtt.connect(settings.url, {
    clientId: settings.clientId,
    clean: false,
    username: settings.username,
    password: settings.password,
    // MQTT 5, with a Receive Maximum (MQTT 3.1.1 has none) and a session with no expiry, which
    // lives on while the bridge is away. Mosquitto 2.0.11 was seen sending far more than the
    // Receive Maximum unacknowledged (26,000 of 4,000), so the bridge also stops reading (below).
    protocolVersion: 5,
    properties: { receiveMaximum: settings.receiveMaximum, sessionExpiryInterval: 0xffff_ffff },
    reconnectPeriod: 1_000,
    connectTimeout: 10_000,
    keepalive: 30,
    resubscribe: false,
  });
  // A PUBACK belongs to the connection its PUBLISH came on.
  let connection = 0;
  client.on('connect', () => {
    connection++;
    log(`gridstream: mqtt bridge connected to ${settings.url} (session ${settings.clientId})`);
    client.subscribe(settings.subscription, { qos: 1 }, (error) => {
      if (error) log(`gridstream: mqtt bridge could not subscribe: ${error.message}`);
    });
  });
  client.on('error', (error) => {
    log(`gridstream: mqtt bridge: ${error.message}`);
  });
  client.handleMessage = (packet: IPublishPacket, callback) => {
    const messageId = packet.messageId;
    const on = connection;
    pending.push({
      topic: packet.topic,
      payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
      receivedAtMs: Date.now(),
      seq: ++received,
      ack:
        packet.qos === 0 || messageId === undefined
          ? undefined
          : () => {
              if (on === connection && client.connected)
                (client as unknown as PacketWriter)._sendPacket({
                  cmd: 'puback',
                  messageId,
                  reasonCode: 0,
                });
            },
    });
    if (pending.length > mostPending) mostPending = pending.length;
    if (pending.length >= settings.batchMessages) wake?.();
    const next = () => {
      callback(packet.qos === 0 ? undefined : DEFERRED);
    };
    // Backpressure: MQTT.js reads the next packet only once this one is called back, so with
    // too many messages waiting the socket is left unread and the broker keeps the rest.
    if (pending.length >= settings.receiveMaximum) held = next;
    else next();
  };

  /** A batch's events and letters; a message that decodes to nothing is only acknowledged. */
  const convert = async (batch: readonly Received[]) => {
    const events: ReadingEvent[] = [];
    const dead: DeadLetter[] = [];
    for (const message of batch) {
      const refuse = (reason: string, text: string) => {
        dead.push({
          topic: `mqtt:${message.topic}`,
          partition: 0,
          reason: `${reason}: ${text}`,
          stage: 'decode',
          message: {
            key: Buffer.from(message.topic),
            value: message.payload,
            headers: { 'x-mqtt-topic': message.topic, 'x-reason': reason },
            offset: String(message.seq),
            timestamp: String(message.receivedAtMs),
            attributes: 0,
          },
        });
      };
      const route = routeTopic(message.topic);
      if (route === undefined) {
        refuse(
          'unknown-topic',
          `${message.topic} is none of gridstream/<tenant>/<device>/readings, …/shelly/<name>/…, …/tasmota/<topic>/tele/…`,
        );
        continue;
      }
      const channels = route.format === 'gridstream' ? [] : await mappings.lookup(route.root);
      const decoded = decode(route, message.payload, channels, message.receivedAtMs);
      if (!decoded.ok) {
        refuse(decoded.reason, decoded.message);
        continue;
      }
      const made = readingEvents(
        route,
        message.topic,
        message.payload,
        decoded.readings,
        message.receivedAtMs,
        bounds,
      );
      if (made.ok) events.push(...made.events);
      else refuse(made.reason, made.message);
    }
    return { events, dead };
  };

  /** Sends the batch on until Kafka has it; waits and tries again while Kafka is away. */
  const deliver = async (batch: readonly Received[]) => {
    let delayMs = 200;
    for (;;) {
      try {
        const { events, dead } = await convert(batch);
        if (dead.length > 0) await letters.write(dead);
        await publisher.publish(events);
        counts = {
          messages: counts.messages + batch.length,
          readings: counts.readings + events.length,
          deadLetters: counts.deadLetters + dead.length,
        };
        break;
      } catch (error) {
        if (stopping) throw error;
        log(
          `gridstream: mqtt bridge could not deliver ${batch.length} messages (${(error as Error).message}); retrying in ${delayMs} ms${isRetriable(error) ? '' : ' (not a known outage)'}`,
        );
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        delayMs = Math.min(delayMs * 2, 5_000);
      }
    }
    for (const message of batch) message.ack?.();
  };

  const loop = (async () => {
    while (!stopping) {
      if (pending.length === 0)
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 250);
        });
      else if (pending.length < settings.batchMessages && settings.batchMs > 0)
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, settings.batchMs);
        });
      wake = undefined;
      if (pending.length === 0) continue;
      const batch = pending.slice(0, settings.batchMessages);
      pending = pending.slice(batch.length);
      if (held !== undefined && pending.length < settings.receiveMaximum / 2) {
        const resume = held;
        held = undefined;
        resume();
      }
      try {
        await deliver(batch);
      } catch (error) {
        if (!stopping) throw error;
      }
    }
  })();
  loop.catch((error: unknown) => {
    log(`gridstream: mqtt bridge failed: ${(error as Error).stack ?? String(error)}`);
    process.exitCode = 1;
  });

  return {
    stats: () => counts,
    connected: () => client.connected,
    async stop() {
      // Unacknowledged messages stay with the broker's session: the next bridge gets them.
      stopping = true;
      held = undefined;
      wake?.();
      log(
        `gridstream: mqtt bridge stopping: ${counts.messages} messages handled (${counts.readings} readings, ${counts.deadLetters} dead letters), at most ${mostPending} waiting at once`,
      );
      await loop.catch(() => undefined);
      await client.endAsync().catch(() => undefined);
      await Promise.allSettled([publisher.disconnect(), letters.close(), mongo.close()]);
    },
  };
}

/**
 * Ends the bridge's persistent session at the broker, with whatever it still holds: for a bridge
 * that will not come back (a test's, a client id retired). Connects once with clean: true.
 */
export async function endBridgeSession(settings: MqttSettings): Promise<void> {
  const client = await mqtt.connectAsync(settings.url, {
    clientId: settings.clientId,
    clean: true,
    username: settings.username,
    password: settings.password,
    protocolVersion: 5,
    properties: { sessionExpiryInterval: 0 },
    reconnectPeriod: 0,
  });
  await client.endAsync();
}
