import { IlpLines, ilpBytes } from '@gridstream/questdb';
import type { Sender } from '@gridstream/questdb';
import { PHASES } from '@gridstream/energy-core';
import type { DeviceBucketTotal } from '@gridstream/energy-core';
import type { DevicePlacement } from './registry.ts';

/** The constant pieces of a quarter-hour row, as bytes once. */
const PIECE = {
  tenant: ilpBytes(',tenant='),
  deviceId: ilpBytes(',device_id='),
  siteId: ilpBytes(',site_id='),
  role: ilpBytes(',role='),
  quality: ilpBytes(',quality='),
  importWh: ilpBytes(' import_wh='),
  exportWh: ilpBytes(',export_wh='),
  measuredMs: ilpBytes(',measured_ms='),
  unknownMs: ilpBytes('i,unknown_ms='),
  flags: ilpBytes('i,flags="'),
};
const PHASE_PIECES = PHASES.map((phase) => ({
  phase,
  importWh: ilpBytes(`,${phase}_import_wh=`),
  exportWh: ilpBytes(`,${phase}_export_wh=`),
}));

/** The lines each kind of sender's rows are written into before they are appended (reused). */
const rowLines = { binary: new IlpLines(true), text: new IlpLines(false) };

/**
 * One device's whole 15-minute total (an upsert: a corrected total replaces the old row), written
 * as bytes as the reading rows are (`writeReadingRow`): the client's per-column calls cost a
 * string or two per column.
 */
export function bufferDeviceQuarterRow(
  sender: Sender,
  table: string,
  tenant: string,
  placement: DevicePlacement | undefined,
  total: DeviceBucketTotal,
): void {
  const lines = (sender.binaryDoubles ? rowLines.binary : rowLines.text).reset();
  lines.name(table);
  lines.raw(PIECE.tenant).name(tenant);
  lines.raw(PIECE.deviceId).name(total.deviceId);
  if (placement !== undefined) {
    lines.raw(PIECE.siteId).name(placement.siteId);
    lines.raw(PIECE.role).name(placement.role);
  }
  lines.raw(PIECE.quality).name(total.quality);
  // (totals are finite: sums of finite interval energies)
  lines.raw(PIECE.importWh).double(total.importWh);
  lines.raw(PIECE.exportWh).double(total.exportWh);
  lines.raw(PIECE.measuredMs).integer(total.measuredMs);
  lines.raw(PIECE.unknownMs).integer(total.unknownMs);
  lines.raw(PIECE.flags);
  if (total.flags.length > 0) lines.stringValue(total.flags.join(','));
  lines.byte(0x22); // "
  for (const { phase, importWh, exportWh } of PHASE_PIECES) {
    const energy = total.phases[phase];
    if (energy === undefined) continue;
    lines.raw(importWh).double(energy.importWh);
    lines.raw(exportWh).double(energy.exportWh);
  }
  lines
    .byte(0x20)
    .integer(total.startMs * 1000)
    .byte(0x74)
    .end(); // t
  sender.appendLines(lines.take());
}
