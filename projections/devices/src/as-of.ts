import { EventType } from '@gridstream/events';
import type { GridstreamEvent, ReadingQuality } from '@gridstream/events';
import { queryUnlessMissing, readDeviceEvents } from '@gridstream/questdb';
import type { QuestDbReader } from '@gridstream/questdb';
import { evolveDevice } from './evolve.ts';
import type { DeviceView } from './evolve.ts';

/** At most this many archived events are folded for one as-of state. */
export const MAX_AS_OF_EVENTS = 100_000;

/**
 * A device's view as of an instant: its events with event time at or before `atMs`, folded in
 * the order given (log order), exactly as the live projection folds them. Null when it had no
 * event by then.
 */
export function deviceStateAt(events: readonly GridstreamEvent[], atMs: number): DeviceView | null {
  let view: DeviceView | null = null;
  for (const event of events) {
    if (Date.parse(event.time) <= atMs) view = evolveDevice(view, event);
  }
  return view;
}

interface LastReadingRow {
  ts: Date;
  event_id: string | null;
  power_w: number | null;
  import_wh: number | null;
  export_wh: number | null;
  soc_pct: number | null;
  quality: ReadingQuality | null;
}

/**
 * Loads what the as-of fold needs from QuestDB — the device's archived events up to the instant
 * and its last reading at or before it (the only reading the view keeps) — and folds them.
 */
export async function loadDeviceStateAt(
  reader: QuestDbReader,
  tables: { readonly events: string; readonly readings: string },
  tenant: string,
  deviceId: string,
  atMs: number,
): Promise<DeviceView | null> {
  const history = await readDeviceEvents(reader, tables.events, {
    tenant,
    deviceId,
    fromMs: 0,
    toMs: atMs + 1,
    limit: MAX_AS_OF_EVENTS,
  });
  const [last] = await queryUnlessMissing(
    reader.query<LastReadingRow>(
      `SELECT ts, event_id, power_w, import_wh, export_wh, soc_pct, quality FROM "${tables.readings}"
     WHERE tenant = $1 AND device_id = $2 AND ts <= $3 ORDER BY ts DESC LIMIT 1`,
      [tenant, deviceId, new Date(atMs).toISOString()],
    ),
  );
  if (last !== undefined) {
    history.push({
      id: last.event_id ?? '',
      type: EventType.readingReported,
      source: 'questdb',
      subject: deviceId,
      time: last.ts.toISOString(),
      tenant,
      data: {
        deviceId,
        quality: last.quality ?? 'good',
        ...(last.power_w === null ? {} : { powerW: last.power_w }),
        ...(last.import_wh === null ? {} : { importWh: last.import_wh }),
        ...(last.export_wh === null ? {} : { exportWh: last.export_wh }),
        ...(last.soc_pct === null ? {} : { socPct: last.soc_pct }),
      },
    });
  }
  return deviceStateAt(history, atMs);
}
