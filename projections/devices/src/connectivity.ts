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
