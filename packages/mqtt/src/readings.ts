import { createHash } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import { EventType, implausibleTime, ReadingReportedV1, Timestamp } from '@gridstream/events';
import type { EventOf, TimePlausibility } from '@gridstream/events';
import type { CandidateReading, TopicRoute } from './formats/index.ts';

export type ReadingEvent = EventOf<typeof EventType.readingReported>;

/** The namespace of the ids of readings that came over MQTT (a UUID v5 namespace, random once). */
const MQTT_READING_NAMESPACE = '4c0d7f0e-5b1e-4d0a-9a43-7a3f8f6b2c11';

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
  const perDevice = new Map<string, number>();
  for (const [index, { time, id, ...fields }] of candidates.entries()) {
    const at = candidates.length > 1 ? `readings.${index}.` : '';
    if (!Timestamp.safeParse(time).success)
      return {
        ok: false,
        reason: 'invalid-reading',
        message: `${at}time: ${time} is not an ISO instant with an offset`,
      };
    const problem = implausibleTime(Date.parse(time), receivedAtMs, bounds);
    if (problem !== undefined)
      return { ok: false, reason: 'implausible-time', message: `${at}time: ${time} ${problem}` };
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
    const ordinal = perDevice.get(data.data.deviceId) ?? 0;
    perDevice.set(data.data.deviceId, ordinal + 1);
    const deviceKey = `${data.data.deviceId}\n${ordinal}`;
    events.push({
      id:
        id ?? uuidv5(`${route.tenant}\n${topic}\n${digest}\n${deviceKey}`, MQTT_READING_NAMESPACE),
      type: EventType.readingReported,
      source: `/mqtt/${route.format}`,
      subject: data.data.deviceId,
      time: new Date(time).toISOString(),
      tenant: route.tenant,
      data: data.data,
    });
  }
  return { ok: true, events };
}
