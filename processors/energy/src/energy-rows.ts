import type { Sender } from '@gridstream/questdb';
import { PHASES } from '@gridstream/energy-core';
import type { DeviceBucketTotal } from '@gridstream/energy-core';
import type { DevicePlacement } from './registry.ts';

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
  for (const phase of PHASES) {
    const energy = total.phases[phase];
    if (energy === undefined) continue;
    sender
      .floatColumn(`${phase}_import_wh`, energy.importWh)
      .floatColumn(`${phase}_export_wh`, energy.exportWh);
  }
  await sender.at(total.startMs * 1000, 'us');
}
