import { localDate } from '@gridstream/energy-core';
import type { DeviceView } from './evolve.ts';

export type Connectivity = 'online' | 'offline' | 'never_seen';

/**
 * Whether a device is online: it reported within `offlineAfterMs` before `nowMs`. A reading is
 * the heartbeat. Computed when read, not stored: a stored flag would need a timer per device to
 * go stale, and replaying the log would not reproduce it.
 */
export function deviceConnectivity(
  view: Pick<DeviceView, 'lastSeenAt'>,
  nowMs: number,
  offlineAfterMs: number,
): Connectivity {
  if (view.lastSeenAt === undefined) return 'never_seen';
  return nowMs - Date.parse(view.lastSeenAt) <= offlineAfterMs ? 'online' : 'offline';
}

/**
 * The device's energy today in its site's time zone: the stored day if it is today, else
 * nothing yet (a new day has no closed quarter hour until 00:15).
 */
export function todayEnergy(
  view: Pick<DeviceView, 'energyDay'>,
  nowMs: number,
): { date: string; importWh: number; exportWh: number } | undefined {
  const day = view.energyDay;
  if (day === undefined) return undefined;
  const today = localDate(nowMs, day.timeZone);
  return day.date === today
    ? { date: today, importWh: day.importWh, exportWh: day.exportWh }
    : { date: today, importWh: 0, exportWh: 0 };
}
