import type { Sender } from '@gridstream/questdb';
import type { DeviceBucketTotal, ReadingDelta } from './core/index.ts';
import type { DevicePlacement } from './registry.ts';

/** One reading's interval energy; `interval` null for a device's first reading. */
export async function bufferReadingEnergyRow(
  sender: Sender,
  table: string,
  tenant: string,
  delta: ReadingDelta,
): Promise<void> {
  sender.table(table).symbol('tenant', tenant).symbol('device_id', delta.deviceId);
  const interval = delta.interval;
  if (interval === null) {
    sender.symbol('method', 'first');
  } else {
    sender
      .symbol('method', interval.method)
      .symbol('quality', interval.quality)
      .timestampColumn('interval_start', interval.startMs * 1000, 'us')
      .floatColumn('import_wh', interval.importWh)
      .floatColumn('export_wh', interval.exportWh)
      .stringColumn('flags', interval.flags.join(','));
  }
  await sender.at(delta.timeMs * 1000, 'us');
}

/** One device's whole 15-minute total (an upsert: a corrected total replaces the old row). */
export async function bufferDeviceQuarterRow(
  sender: Sender,
  table: string,
  tenant: string,
  placement: DevicePlacement | undefined,
  total: DeviceBucketTotal,
): Promise<void> {
  sender.table(table).symbol('tenant', tenant).symbol('device_id', total.deviceId);
  if (placement !== undefined)
    sender.symbol('site_id', placement.siteId).symbol('role', placement.role);
  sender
    .symbol('quality', total.quality)
    .floatColumn('import_wh', total.importWh)
    .floatColumn('export_wh', total.exportWh)
    .intColumn('measured_ms', total.measuredMs)
    .intColumn('unknown_ms', total.unknownMs)
    .stringColumn('flags', total.flags.join(','));
  await sender.at(total.startMs * 1000, 'us');
}
