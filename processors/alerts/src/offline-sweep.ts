import type { AlertRaisedV1 } from '@gridstream/events';
import { AlertTransitions, openAlertOf, withWatch } from './alert-state.ts';
import type { AlertFold, AlertSettings, DeviceAlertState } from './alert-state.ts';
import type { DeviceBatchPlan, DeviceStateDocument, DeviceStateWrite } from './device-batch.ts';
import { offlineRaised } from './rules.ts';

export type OfflineAlert = Extract<AlertRaisedV1, { kind: 'device-offline' }>;

/**
 * The offline sweep's rule for one device at wall-clock `nowMs`: in service, reported, no
 * offline alert open, and silent for longer than `offlineAfterMs` since its newest reading (by
 * event time, as the devices read model judges connectivity) -> raise device-offline, starting
 * at newest reading + offlineAfterMs. The alert is a function of the state, not of `nowMs`, so a
 * sweep redone after a crash raises exactly the same alert.
 */
export function sweepOffline(
  state: DeviceAlertState,
  nowMs: number,
  settings: Pick<AlertSettings, 'offlineAfterMs'>,
): AlertFold {
  const lastMs = state.lastReadingMs;
  if (
    state.decommissioned ||
    lastMs === undefined ||
    openAlertOf(state, 'device-offline') !== undefined ||
    nowMs - lastMs <= settings.offlineAfterMs
  )
    return { state, transitions: [] };
  const raised = offlineRaised(state, lastMs, settings.offlineAfterMs);
  return {
    state: withWatch({ ...state, open: [...state.open, raised] }),
    transitions: [{ transition: 'raised', data: raised }],
  };
}

/**
 * The sweep publishes before it writes; when the write finds the document changed by another
 * writer, it re-reads it and records the alert it already published into the new state:
 * - still the same newest reading, and in service: the alert is open;
 * - a newer reading, or decommissioned since: the alert is over, so it is cleared now (if the
 *   reading came after the offline start, foldReading raised and cleared the same alert id
 *   already, and this clear repeats that one's id).
 */
export function recordPublishedOffline(state: DeviceAlertState, raised: OfflineAlert): AlertFold {
  if (state.open.some((alert) => alert.alertId === raised.alertId))
    return { state, transitions: [] };
  const lastMs = Date.parse(raised.detail.lastReadingAt);
  if (!state.decommissioned && state.lastReadingMs === lastMs)
    return { state: withWatch({ ...state, open: [...state.open, raised] }), transitions: [] };
  const alerts = new AlertTransitions([]);
  alerts.clear(
    raised,
    state.lastReadingMs ?? Date.parse(raised.at),
    state.decommissioned ? 'decommissioned' : 'recovered',
  );
  return { state, transitions: alerts.list };
}

/**
 * One sweep attempt over the stored states of silent devices (pure): the sweep's rule for a
 * device seen for the first time, and for a device whose alert an earlier attempt of the same
 * sweep already published (`published`, by state id), the recording of that alert.
 */
export function planOfflineSweep(
  stored: ReadonlyMap<string, DeviceStateDocument>,
  nowMs: number,
  settings: Pick<AlertSettings, 'offlineAfterMs'>,
  published: ReadonlyMap<string, OfflineAlert>,
): DeviceBatchPlan {
  const transitions: DeviceBatchPlan['transitions'][number][] = [];
  const writes: DeviceStateWrite[] = [];
  for (const [id, before] of stored) {
    const earlier = published.get(id);
    const folded =
      earlier === undefined
        ? sweepOffline(before.state, nowMs, settings)
        : recordPublishedOffline(before.state, earlier);
    if (folded.state === before.state && folded.transitions.length === 0) continue;
    for (const transition of folded.transitions)
      transitions.push({ tenant: before.state.tenant, transition });
    writes.push({ id, before, state: folded.state, positions: before._meta.positions });
  }
  return { transitions, writes };
}
