import type {
  AlertClearReason,
  AlertClearedV1,
  AlertKind,
  AlertRaisedV1,
} from '@gridstream/events';

/** What the alert rules need from the configuration. */
export interface AlertSettings {
  /** Two consecutive readings further apart than this are a data gap (GS_ENERGY_MAX_GAP_MS). */
  readonly maxGapMs: number;
  /** A device without a reading for longer than this is offline (GS_DEVICE_OFFLINE_AFTER_MS). */
  readonly offlineAfterMs: number;
}

/**
 * What the alerts processor remembers of one device between batches. Times are event times in
 * epoch milliseconds. An open alert is kept as the payload it was raised with, so clearing it
 * repeats its id, kind and detail.
 */
export interface DeviceAlertState {
  readonly tenant: string;
  readonly deviceId: string;
  readonly siteId?: string;
  readonly ratedPowerW?: number;
  /** The counters' register size from the registration: a wrap is no meter reset. */
  readonly counterWrapWh?: number;
  readonly decommissioned: boolean;
  /** Event time of the newest reading; a reading at or before it is late and raises nothing. */
  readonly lastReadingMs?: number;
  /** The counters of the newest reading that carried them. */
  readonly lastImportWh?: number;
  readonly lastExportWh?: number;
  /**
   * The event time of the reading each counter came from: another part of that instant (a
   * gateway that sends a meter's power and counters apart) merges with it instead of being
   * compared with it. Absent in states stored before it was kept.
   */
  readonly lastImportAtMs?: number;
  readonly lastExportAtMs?: number;
  /**
   * The event time of the reading whose power was last judged against the rating: another
   * reading of that instant (a redelivery, or a second part of it) is not judged again, so
   * duplicates and the order of one instant's parts change no alert.
   */
  readonly lastPowerAtMs?: number;
  /** At most one open alert per kind. */
  readonly open: readonly AlertRaisedV1[];
  /**
   * In service, has reported, and no device-offline alert open: the devices the offline sweep
   * looks at. Stored (not derived when read) so the sweep finds them with an index.
   */
  readonly watchOffline: boolean;
}

export type AlertTransition =
  | { readonly transition: 'raised'; readonly data: AlertRaisedV1 }
  | { readonly transition: 'cleared'; readonly data: AlertClearedV1 };

/** A device's next state and the alert transitions that lead there, in order. */
export interface AlertFold {
  readonly state: DeviceAlertState;
  readonly transitions: readonly AlertTransition[];
}

export function initialAlertState(tenant: string, deviceId: string): DeviceAlertState {
  return { tenant, deviceId, decommissioned: false, open: [], watchOffline: false };
}

export const isoTime = (ms: number): string => new Date(ms).toISOString();

/**
 * Deterministic: the device, the kind and the event time that opened the alert. The same
 * readings give the same id on every run, every instance and every redo after a crash.
 */
export function alertIdOf(deviceId: string, kind: AlertKind, openedAtMs: number): string {
  return `${deviceId}:${kind}:${isoTime(openedAtMs)}`;
}

export function openAlertOf(
  state: Pick<DeviceAlertState, 'open'>,
  kind: AlertKind,
): AlertRaisedV1 | undefined {
  return state.open.find((alert) => alert.kind === kind);
}

/** The fields every alert of this device shares: its id, its device and, once known, its site. */
export function alertBase(state: DeviceAlertState, kind: AlertKind, openedAtMs: number) {
  return {
    alertId: alertIdOf(state.deviceId, kind, openedAtMs),
    deviceId: state.deviceId,
    ...(state.siteId === undefined ? {} : { siteId: state.siteId }),
    at: isoTime(openedAtMs),
  };
}

/**
 * The clear of an open alert. Never before the alert was raised: a reading measured before an
 * offline alert's start but processed after the sweep raised it clears it at its start.
 */
export function clearedOf(
  alert: AlertRaisedV1,
  atMs: number,
  reason: AlertClearReason,
): AlertClearedV1 {
  const at = isoTime(Math.max(atMs, Date.parse(alert.at)));
  return { ...alert, at, raisedAt: alert.at, reason };
}

/** Recomputes the sweep flag; every fold ends here. */
export function withWatch(state: Omit<DeviceAlertState, 'watchOffline'>): DeviceAlertState {
  return {
    ...state,
    watchOffline:
      !state.decommissioned &&
      state.lastReadingMs !== undefined &&
      openAlertOf(state, 'device-offline') === undefined,
  };
}

/** Collects transitions while keeping the open list in step with them. */
export class AlertTransitions {
  open: readonly AlertRaisedV1[];
  readonly list: AlertTransition[] = [];

  constructor(open: readonly AlertRaisedV1[]) {
    this.open = open;
  }

  raise(data: AlertRaisedV1): void {
    this.open = [...this.open, data];
    this.list.push({ transition: 'raised', data });
  }

  clear(alert: AlertRaisedV1, atMs: number, reason: AlertClearReason): void {
    this.open = this.open.filter((a) => a.alertId !== alert.alertId);
    this.list.push({ transition: 'cleared', data: clearedOf(alert, atMs, reason) });
  }
}
