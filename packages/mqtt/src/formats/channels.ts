import { hasMeasurement } from '@gridstream/events';
import { refuse } from './types.ts';
import type { CandidateReading, ChannelMapping, Decoded } from './types.ts';

/** What one channel of a device measured, in gridstream's units. */
export type ChannelFields = Omit<CandidateReading, 'deviceId' | 'time' | 'id' | 'quality'>;

/** The fields a reading needs one of (the catalogue's rule): voltage alone is not a reading. */
export const measures = (fields: ChannelFields): boolean => hasMeasurement.check(fields);

export type Refusal = Extract<Decoded, { ok: false }>;
export type ChannelTime = { readonly ok: true; readonly time: string } | Refusal;

/**
 * The readings of a device's measuring channels that a mapping names, in channel order (a
 * message delivered again decodes to the same list). Channels no mapping names are skipped; when
 * none is named the message is refused as `not-mapped`, so operators see the unmapped device.
 */
export function mappedReadings(
  root: string,
  channels: ReadonlyMap<number, ChannelFields>,
  mappings: readonly ChannelMapping[],
  timeOf: (mapping: ChannelMapping) => ChannelTime,
): Decoded {
  const measuring = [...channels.keys()].sort((a, b) => a - b);
  const readings: CandidateReading[] = [];
  for (const channel of measuring) {
    const mapping = mappings.find((m) => m.channel === channel);
    if (mapping === undefined) continue;
    const time = timeOf(mapping);
    if (!time.ok) return time;
    readings.push({ deviceId: mapping.deviceId, time: time.time, ...channels.get(channel) });
  }
  if (readings.length === 0 && measuring.length > 0)
    return refuse('not-mapped', `no mapping names channel ${measuring.join(', ')} of ${root}`);
  return { ok: true, readings };
}
