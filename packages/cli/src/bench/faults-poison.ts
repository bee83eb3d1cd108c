import { CompressionTypes, Partitioners } from 'kafkajs';
import type { IHeaders, Kafka, Producer } from 'kafkajs';
import { v7 as uuidv7 } from 'uuid';
import { encodeEvent, EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import type { TopicNames } from '@gridstream/kafka';
import { deviceIdOf, FAULTS_TENANT, siteIdOf } from './faults-load.ts';

/** The classes of poison of issue 12, each sent straight to Kafka. */
export const POISON_CLASSES = [
  'time-far-future',
  'time-far-past',
  'value-implausible',
  'undecodable-bytes',
  'oversized-900kb',
  'registration-on-readings',
  'reading-on-devices',
  'wrong-key',
] as const;
export type PoisonClass = (typeof POISON_CLASSES)[number];

export interface PoisonMessage {
  readonly kind: PoisonClass;
  readonly id: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

const position = (topic: string, partition: number, offset: string) =>
  `${topic}/${partition}/${offset}`;

export class PoisonStream {
  /** Acknowledged by Kafka, by position. */
  readonly sent = new Map<string, PoisonMessage>();
  /** Every id and key ever tried (a send that failed may still have been written). */
  readonly tried = new Set<string>();
  readonly #producer: Producer;
  readonly #topics: TopicNames;
  readonly #devices: number;
  #n = 0;

  constructor(kafka: Kafka, topics: TopicNames, devices: number) {
    this.#producer = kafka.producer({
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.#topics = topics;
    this.#devices = devices;
  }

  connect(): Promise<void> {
    return this.#producer.connect();
  }

  disconnect(): Promise<void> {
    return this.#producer.disconnect();
  }

  countByClass(): Map<PoisonClass, number> {
    const counts = new Map<PoisonClass, number>();
    for (const p of this.sent.values()) counts.set(p.kind, (counts.get(p.kind) ?? 0) + 1);
    return counts;
  }

  /** Sends the next class in turn; false when Kafka did not take it (tried again next time). */
  async sendNext(): Promise<boolean> {
    const kind = POISON_CLASSES[this.#n % POISON_CLASSES.length] ?? 'undecodable-bytes';
    const ok = await this.send(kind);
    if (ok) this.#n++;
    return ok;
  }

  async send(kind: PoisonClass): Promise<boolean> {
    const record = this.#record(kind);
    this.tried.add(record.id);
    try {
      const [meta] = await this.#producer.send({
        topic: record.topic,
        acks: -1,
        timeout: 10_000,
        compression: CompressionTypes.None,
        messages: [{ key: record.key, value: record.value, headers: record.headers }],
      });
      if (meta === undefined || meta.baseOffset === undefined) return false;
      const message: PoisonMessage = {
        kind,
        id: record.id,
        topic: record.topic,
        partition: meta.partition,
        offset: meta.baseOffset,
      };
      this.sent.set(position(record.topic, meta.partition, meta.baseOffset), message);
      return true;
    } catch {
      return false;
    }
  }

  #record(kind: PoisonClass): {
    id: string;
    topic: string;
    key: string;
    value: Buffer | string;
    headers: IHeaders;
  } {
    // A real device of the load: poison must not change what the system says about it.
    const device = this.#n % this.#devices;
    const deviceId = deviceIdOf(device);
    const reading = (time: string, data: Record<string, unknown>): GridstreamEvent => ({
      id: uuidv7(),
      type: EventType.readingReported,
      source: 'bench-faults-poison',
      subject: deviceId,
      time,
      tenant: FAULTS_TENANT,
      data: { deviceId, quality: 'good', ...data },
    });
    const now = new Date().toISOString();
    const encoded = (event: GridstreamEvent, topic: string, key?: string) => {
      const e = encodeEvent(event);
      return { id: event.id, topic, key: key ?? e.key, value: e.value, headers: { ...e.headers } };
    };
    switch (kind) {
      case 'time-far-future':
        return encoded(reading('9999-12-31T00:00:00.000Z', { powerW: 100 }), this.#topics.readings);
      case 'time-far-past':
        return encoded(reading('1900-01-01T00:00:00.000Z', { powerW: 100 }), this.#topics.readings);
      case 'value-implausible':
        return encoded(reading(now, { importWh: 1e308 }), this.#topics.readings);
      case 'undecodable-bytes': {
        const e = encoded(reading(now, { powerW: 100 }), this.#topics.readings);
        return { ...e, value: Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x7b, 0x22]) };
      }
      case 'oversized-900kb':
        return encoded(
          reading(now, { powerW: 100, note: 'x'.repeat(900 * 1024) }),
          this.#topics.readings,
        );
      case 'registration-on-readings':
        return encoded(
          {
            id: uuidv7(),
            type: EventType.deviceRegistered,
            source: 'bench-faults-poison',
            subject: deviceId,
            time: now,
            tenant: FAULTS_TENANT,
            data: {
              deviceId,
              siteId: siteIdOf(device),
              kind: 'meter',
              role: 'grid',
              name: 'renamed by a registration on the readings topic',
              timeZone: 'Europe/Berlin',
            },
          },
          this.#topics.readings,
        );
      case 'reading-on-devices':
        return encoded(reading(now, { powerW: 100 }), this.#topics.devices);
      case 'wrong-key':
        return encoded(
          reading(now, { powerW: 100 }),
          this.#topics.readings,
          deviceIdOf((device + 1) % this.#devices),
        );
    }
  }
}

export { position as poisonPosition };
