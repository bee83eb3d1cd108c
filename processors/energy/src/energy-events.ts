import { createHash } from 'node:crypto';
import { EventType } from '@gridstream/events';
import type { EventOf } from '@gridstream/events';
import type { DeviceBucketTotal } from '@gridstream/energy-core';
import type { DevicePlacement } from './registry.ts';

/**
 * A derived event's id is a UUIDv8 hashed from its content: publishing the same figures again
 * (a batch redone after a crash) repeats the id, so consumers can deduplicate; a correction has
 * different figures and so a new id.
 */
function contentId(content: string): string {
  const hex = createHash('sha256').update(content).digest('hex').slice(0, 32).split('');
  hex[12] = '8'; // version 8: custom
  hex[16] = ((parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16); // RFC 9562 variant
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function quarterHourEnergyEvent(
  tenant: string,
  placement: DevicePlacement | undefined,
  total: DeviceBucketTotal,
): EventOf<typeof EventType.quarterHourEnergyComputed> {
  const bucketStart = new Date(total.startMs).toISOString();
  const data = {
    deviceId: total.deviceId,
    ...(placement === undefined
      ? {}
      : { siteId: placement.siteId, role: placement.role, timeZone: placement.timeZone }),
    bucketStart,
    importWh: total.importWh,
    exportWh: total.exportWh,
    measuredMs: total.measuredMs,
    unknownMs: total.unknownMs,
    quality: total.quality,
    flags: [...total.flags],
    ...(Object.keys(total.phases).length === 0 ? {} : { phases: total.phases }),
  };
  return {
    id: contentId(`${tenant}\n${JSON.stringify(data)}`),
    type: EventType.quarterHourEnergyComputed,
    source: 'processor/energy',
    subject: total.deviceId,
    time: bucketStart,
    tenant,
    data,
  };
}
