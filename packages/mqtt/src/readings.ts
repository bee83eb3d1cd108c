import { createHash } from 'node:crypto';
import { EventType, implausibleTime, ReadingReportedV1, Timestamp } from '@gridstream/events';
import type { EventOf, TimePlausibility } from '@gridstream/events';
import type { CandidateReading, TopicRoute } from './formats/index.ts';

export type ReadingEvent = EventOf<typeof EventType.readingReported>;

/** The namespace of the ids of readings that came over MQTT (a UUID v5 namespace, random once). */
const MQTT_READING_NAMESPACE = Buffer.from('4c0d7f0e5b1e4d0a9a437a3f8f6b2c11', 'hex');

/**
 * RFC 9562's UUID version 5 (SHA-1 of the namespace and the name), as the uuid package's v5
 * computes it, without its per-call parsing of the namespace: that was 8 % of the bridge's CPU.
 */
export function uuidV5(name: string, namespace: Buffer = MQTT_READING_NAMESPACE): string {
  return formatUuid(createHash('sha1').update(namespace).update(name).digest(), 0x50);
}

/** The first 16 bytes as a UUID of the version given (its high nibble), RFC 9562's variant. */
function formatUuid(bytes: Buffer, version: number): string {
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | version;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/**
 * The id of a device's `ordinal`-th reading in a message, from the device's UUID v5 in it: the
 * ordinal is folded into its last four bytes and the version set to 8 (RFC 9562's custom). One
 * SHA-1 per device and message rather than per reading.
 */
export function readingUuid(deviceUuid: Buffer, ordinal: number): string {
  const bytes = Buffer.from(deviceUuid);
  bytes.writeUInt32BE((bytes.readUInt32BE(12) ^ ordinal) >>> 0, 12);
  return formatUuid(bytes, 0x80);
}

export type MessageReadings =
  | { readonly ok: true; readonly events: readonly ReadingEvent[] }
  | { readonly ok: false; readonly reason: string; readonly message: string };

/**
 * The reading events of one MQTT message's candidate readings, checked as the API checks a batch
 * (schema, physical bounds, time plausibility against the time the bridge received it): one bad
 * reading refuses the whole message, as one bad reading refuses a whole POST /v1/readings.
 *
 * A reading's id is its own when it names one, otherwise derived from the tenant, the topic, the
 * message's bytes, the device and the reading's place among that device's readings in it: a
 * message the broker delivers again (the bridge restarted before acknowledging it) publishes the
 * same events, not new ones, even if a channel was mapped or unmapped in between.
 */
export function readingEvents(
  route: TopicRoute,
  topic: string,
  payload: Uint8Array,
  candidates: readonly CandidateReading[],
  receivedAtMs: number,
  bounds: TimePlausibility,
): MessageReadings {
  if (candidates.length === 0) return { ok: true, events: [] };
  const digest = createHash('sha256').update(payload).digest('hex');
  const events: ReadingEvent[] = [];
  /** Each device's name-based bytes in this message, and its readings so far. */
  const perDevice = new Map<string, { readonly bytes: Buffer; ordinal: number }>();
  let lastTime = '';
  let lastIso = '';
  let lastProblem: string | undefined;
  for (const [index, { time, id, ...fields }] of candidates.entries()) {
    const at = candidates.length > 1 ? `readings.${index}.` : '';
    // Readings of a message often share their time: it is checked and normalised once.
    if (time !== lastTime) {
      if (!Timestamp.safeParse(time).success)
        return {
          ok: false,
          reason: 'invalid-reading',
          message: `${at}time: ${time} is not an ISO instant with an offset`,
        };
      const ms = Date.parse(time);
      lastProblem = implausibleTime(ms, receivedAtMs, bounds);
      lastTime = time;
      lastIso = new Date(ms).toISOString();
    }
    if (lastProblem !== undefined)
      return {
        ok: false,
        reason: 'implausible-time',
        message: `${at}time: ${time} ${lastProblem}`,
      };
    const data = ReadingReportedV1.safeParse(fields);
    if (!data.success) {
      const issue = data.error.issues[0];
      const path = issue?.path.map(String).join('.') ?? '';
      return {
        ok: false,
        reason: 'invalid-reading',
        message: `${at}${path === '' ? '' : `${path}: `}${issue?.message ?? 'invalid'}`,
      };
    }
    const { deviceId } = data.data;
    let device = perDevice.get(deviceId);
    if (device === undefined && id === undefined) {
      const name = `${route.tenant}\n${topic}\n${digest}\n${deviceId}`;
      device = {
        bytes: createHash('sha1').update(MQTT_READING_NAMESPACE).update(name).digest(),
        ordinal: 0,
      };
      perDevice.set(deviceId, device);
    }
    events.push({
      id:
        id ??
        readingUuid(device?.bytes ?? Buffer.alloc(16), device === undefined ? 0 : device.ordinal++),
      type: EventType.readingReported,
      source: `/mqtt/${route.format}`,
      subject: data.data.deviceId,
      time: lastIso,
      tenant: route.tenant,
      data: data.data,
    });
  }
  return { ok: true, events };
}
