import { describe, expect, it } from 'vitest';
import { initialAlertState } from './alert-state.ts';
import type { AlertSettings, DeviceAlertState } from './alert-state.ts';
import { deviceStateId } from './device-batch.ts';
import type { DeviceStateDocument } from './device-batch.ts';
import { planOfflineSweep } from './offline-sweep.ts';
import type { OfflineAlert } from './offline-sweep.ts';
import { foldReading } from './rules.ts';

const settings: AlertSettings = {
  maxGapMs: 15 * 60_000,
  offlineAfterMs: 5 * 60_000,
};
const T0 = Date.parse('2026-06-01T10:00:00.000Z');
const id = deviceStateId('acme', 'plug-1');

function stored(state: DeviceAlertState, version: number): Map<string, DeviceStateDocument> {
  return new Map([[id, { _id: id, state, _meta: { version, positions: [] } }]]);
}

const reported = (state: DeviceAlertState, timeMs: number) =>
  foldReading(state, { deviceId: 'plug-1', timeMs, powerW: 5, quality: 'good' }, settings).state;

describe('planOfflineSweep', () => {
  const silent = reported(initialAlertState('acme', 'plug-1'), T0);

  it('raises device-offline for a silent device and writes it open', () => {
    const plan = planOfflineSweep(stored(silent, 1), T0 + 10 * 60_000, settings, new Map());
    expect(plan.transitions.map((t) => t.transition.transition)).toEqual(['raised']);
    expect(plan.writes[0]?.state.open.map((a) => a.kind)).toEqual(['device-offline']);
    expect(plan.writes[0]?.state.watchOffline).toBe(false);
  });

  it('on a retry after a conflict, records the published alert or clears it if the device reported meanwhile', () => {
    const first = planOfflineSweep(stored(silent, 1), T0 + 10 * 60_000, settings, new Map());
    const raised = first.transitions[0]?.transition.data as OfflineAlert;
    const published = new Map([[id, raised]]);
    // given the device unchanged (another sweep wrote the same version bump): recorded, nothing new published
    const same = planOfflineSweep(stored(silent, 2), T0 + 10 * 60_000, settings, published);
    expect(same.transitions).toEqual([]);
    expect(same.writes[0]?.state.open).toEqual([raised]);
    // given a reading within the limit folded meanwhile: the published alert is cleared at once
    const back = reported(silent, T0 + 2 * 60_000);
    const cleared = planOfflineSweep(stored(back, 2), T0 + 10 * 60_000, settings, published);
    expect(
      cleared.transitions.map(({ transition }) => [
        transition.transition,
        transition.data.alertId,
        transition.data.at,
      ]),
    ).toEqual([['cleared', raised.alertId, raised.at]]);
  });
});
