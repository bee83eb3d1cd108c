import { counterDeltaWh, counterRolloverOf, totalPowerW } from '@gridstream/energy-core';
import type { EnergyReading } from '@gridstream/energy-core';
import { EventType } from '@gridstream/events';
import type { AlertRaisedV1, EventOf } from '@gridstream/events';
import { alertBase, AlertTransitions, isoTime, openAlertOf, withWatch } from './alert-state.ts';
import type { AlertFold, AlertSettings, DeviceAlertState } from './alert-state.ts';

/** A power-threshold alert clears once the power is back to at most this share of the rating. */
export const POWER_CLEAR_RATIO = 0.95;

type CounterDrop = Extract<AlertRaisedV1, { kind: 'meter-reset' }>['detail']['counters'][number];

/**
 * The counters of a reading that went down and are not a rollover of the device's register (the
 * energy core's rule, so an alert says reset exactly where the energy figures do).
 */
function counterResets(state: DeviceAlertState, reading: EnergyReading): CounterDrop[] {
  const rollover = counterRolloverOf(state.counterWrapWh);
  const drops: CounterDrop[] = [];
  const pairs = [
    ['importWh', state.lastImportWh, state.lastImportAtMs, reading.importWh],
    ['exportWh', state.lastExportWh, state.lastExportAtMs, reading.exportWh],
  ] as const;
  for (const [counter, previousWh, previousAtMs, newWh] of pairs) {
    // A counter of this same instant was seen already: this part merges with it (energy-core's
    // rule for parts of one instant: the larger value), it does not follow it.
    if (previousWh === undefined || newWh === undefined || previousAtMs === reading.timeMs)
      continue;
    if (counterDeltaWh(previousWh, newWh, rollover).change === 'reset')
      drops.push({ counter, previousWh, newWh });
  }
  return drops;
}

/** Whether the reading carries a counter not seen at its instant yet (that can clear a reset). */
function carriesNewCounter(state: DeviceAlertState, reading: EnergyReading): boolean {
  return (
    (reading.importWh !== undefined && state.lastImportAtMs !== reading.timeMs) ||
    (reading.exportWh !== undefined && state.lastExportAtMs !== reading.timeMs)
  );
}

/** A counter to remember: a part of the instant it came from keeps the larger value. */
function rememberedCounter(
  previousWh: number | undefined,
  previousAtMs: number | undefined,
  newWh: number,
  timeMs: number,
): number {
  return previousWh !== undefined && previousAtMs === timeMs ? Math.max(previousWh, newWh) : newWh;
}

/**
 * Folds one reading into a device's alert state (pure; the only time it uses is the reading's).
 *
 * - A reading before the newest one seen (late) changes nothing and raises nothing: alerts are
 *   live signals; the energy figures are where late data is corrected. A reading at the instant
 *   of the newest is another part of it (a gateway may send a meter's power and its counters
 *   apart): what it adds is checked too, but it clears nothing raised at that instant, so a
 *   duplicate never clears what its twin raised.
 * - device-offline: the reading clears an open one. If none is open but the silence before this
 *   reading was longer than `offlineAfterMs`, the device was offline by the rule the sweep
 *   applies, so the alert is raised and cleared here, with the ids the sweep would have used.
 * - data-gap: a silence longer than `maxGapMs` is raised at its start and cleared at its end.
 * - meter-reset: a counter that went down (and is not a rollover) raises one, unless one is
 *   open; the next reading that carries a counter and none going down clears it.
 * - power-threshold: power whose magnitude is above the device's rating raises one; it clears
 *   once the magnitude is at most POWER_CLEAR_RATIO of the rating. No rating, no threshold.
 * - A decommissioned device raises nothing; its readings are still remembered.
 */
export function foldReading(
  state: DeviceAlertState,
  reading: EnergyReading,
  settings: AlertSettings,
): AlertFold {
  const lastMs = state.lastReadingMs;
  const timeMs = reading.timeMs;
  if (lastMs !== undefined && timeMs < lastMs) return { state, transitions: [] };
  const raisedBefore = (alert: AlertRaisedV1) => Date.parse(alert.at) < timeMs;
  const remembered: DeviceAlertState = {
    ...state,
    lastReadingMs: timeMs,
    ...(reading.importWh === undefined
      ? {}
      : {
          lastImportWh: rememberedCounter(
            state.lastImportWh,
            state.lastImportAtMs,
            reading.importWh,
            timeMs,
          ),
          lastImportAtMs: timeMs,
        }),
    ...(reading.exportWh === undefined
      ? {}
      : {
          lastExportWh: rememberedCounter(
            state.lastExportWh,
            state.lastExportAtMs,
            reading.exportWh,
            timeMs,
          ),
          lastExportAtMs: timeMs,
        }),
  };
  if (state.decommissioned) return { state: withWatch(remembered), transitions: [] };

  const alerts = new AlertTransitions(state.open);
  const silenceMs = lastMs === undefined ? 0 : timeMs - lastMs;

  const offline = openAlertOf(state, 'device-offline');
  if (offline !== undefined) alerts.clear(offline, timeMs, 'recovered');
  else if (lastMs !== undefined && silenceMs > settings.offlineAfterMs) {
    const raised = offlineRaised(state, lastMs, settings.offlineAfterMs);
    alerts.raise(raised);
    alerts.clear(raised, timeMs, 'recovered');
  }

  if (lastMs !== undefined && silenceMs > settings.maxGapMs) {
    const gap = {
      ...alertBase(state, 'data-gap', lastMs),
      kind: 'data-gap' as const,
      detail: {
        from: isoTime(lastMs),
        to: isoTime(timeMs),
        gapMs: silenceMs,
        maxGapMs: settings.maxGapMs,
      },
    };
    alerts.raise(gap);
    alerts.clear(gap, timeMs, 'recovered');
  }

  const resets = counterResets(state, reading);
  const reset = openAlertOf(state, 'meter-reset');
  if (resets.length > 0) {
    if (reset === undefined)
      alerts.raise({
        ...alertBase(state, 'meter-reset', timeMs),
        kind: 'meter-reset',
        detail: { counters: resets },
      });
  } else if (reset !== undefined && raisedBefore(reset) && carriesNewCounter(state, reading)) {
    alerts.clear(reset, timeMs, 'recovered');
  }

  const powerW = totalPowerW(reading);
  const ratedPowerW = state.ratedPowerW;
  // the first power of an instant is the one judged (a redelivered or second part changes nothing)
  const judged = powerW !== undefined && state.lastPowerAtMs !== timeMs;
  if (judged && ratedPowerW !== undefined) {
    const over = openAlertOf(state, 'power-threshold');
    if (over === undefined && Math.abs(powerW) > ratedPowerW)
      alerts.raise({
        ...alertBase(state, 'power-threshold', timeMs),
        kind: 'power-threshold',
        detail: { powerW, ratedPowerW },
      });
    else if (
      over !== undefined &&
      raisedBefore(over) &&
      Math.abs(powerW) <= POWER_CLEAR_RATIO * ratedPowerW
    )
      alerts.clear(over, timeMs, 'recovered');
  }

  return {
    state: withWatch({
      ...remembered,
      ...(judged ? { lastPowerAtMs: timeMs } : {}),
      open: alerts.open,
    }),
    transitions: alerts.list,
  };
}

/** The device-offline alert of a device silent since `lastReadingMs`: it starts when the silence passes the limit. */
export function offlineRaised(
  state: DeviceAlertState,
  lastReadingMs: number,
  offlineAfterMs: number,
) {
  return {
    ...alertBase(state, 'device-offline', lastReadingMs + offlineAfterMs),
    kind: 'device-offline' as const,
    detail: { lastReadingAt: isoTime(lastReadingMs), offlineAfterMs },
  };
}

export type RegistryEvent = EventOf<
  | typeof EventType.deviceRegistered
  | typeof EventType.deviceUpdated
  | typeof EventType.deviceDecommissioned
  | typeof EventType.deviceRestored
  | typeof EventType.deviceMoved
>;

/**
 * Folds a registry event: the site and rating alerts need, and the lifecycle. Decommissioning
 * clears every open alert of the device (reason `decommissioned`, at the event's time);
 * restoring forgets its readings.
 */
export function foldRegistryEvent(state: DeviceAlertState, event: RegistryEvent): AlertFold {
  switch (event.type) {
    case EventType.deviceRegistered: {
      const { siteId, nameplate } = event.data;
      const { ratedPowerW, counterWrapWh } = nameplate ?? {};
      const { ratedPowerW: _previous, counterWrapWh: _previousWrap, ...rest } = state;
      return {
        state: withWatch({
          ...rest,
          siteId,
          ...(ratedPowerW === undefined ? {} : { ratedPowerW }),
          ...(counterWrapWh === undefined ? {} : { counterWrapWh }),
        }),
        transitions: [],
      };
    }
    case EventType.deviceUpdated: {
      const { ratedPowerW } = event.data;
      return {
        state: ratedPowerW === undefined ? state : { ...state, ratedPowerW },
        transitions: [],
      };
    }
    case EventType.deviceDecommissioned: {
      const alerts = new AlertTransitions(state.open);
      const atMs = Date.parse(event.time);
      for (const alert of state.open) alerts.clear(alert, atMs, 'decommissioned');
      return {
        state: withWatch({ ...state, decommissioned: true, open: alerts.open }),
        transitions: alerts.list,
      };
    }
    case EventType.deviceRestored: {
      // A restored device starts afresh: the silence while it was out of service is no gap and
      // no offline period, and a counter replaced meanwhile is no reset.
      if (!state.decommissioned) return { state, transitions: [] };
      const {
        lastReadingMs: _ms,
        lastImportWh: _importWh,
        lastExportWh: _exportWh,
        lastImportAtMs: _importAtMs,
        lastExportAtMs: _exportAtMs,
        ...rest
      } = state;
      return { state: withWatch({ ...rest, decommissioned: false }), transitions: [] };
    }
    case EventType.deviceMoved:
      // alerts raised from now on name the site it is on now
      return { state: { ...state, siteId: event.data.toSiteId }, transitions: [] };
  }
}
