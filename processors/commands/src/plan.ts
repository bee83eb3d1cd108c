import type { PositionedEvent } from '@gridstream/kafka';
import { isApplied } from '@gridstream/mongo';
import type { LogPosition, StoredDocument } from '@gridstream/mongo';
import { isSagaInput, stepDevice } from './command-saga.ts';
import type { ProcessorEvent } from './command-saga.ts';
import { initialDeviceCommands, nextDueMs } from './device-commands.ts';
import type { CommandTimings, DeviceCommandsState } from './device-commands.ts';

/**
 * One document per device: its saga state, the Kafka positions applied, and the outbox: events
 * decided but not yet known to be on Kafka. The state and its events are written together, then
 * published, then the outbox is cleared; a crash in between leaves them to be published again
 * (same ids) by whoever loads the document next.
 */
export interface DeviceCommandsDocument extends StoredDocument<DeviceCommandsState> {
  readonly outbox: readonly ProcessorEvent[];
  readonly hasOutbox: boolean;
  /** When the saga next needs the clock (ms); IDLE_DUE_MS when it does not. */
  readonly dueAtMs: number;
}

/** dueAtMs of a device with no timer: never due (a number, so one index and one range query serve). */
export const IDLE_DUE_MS = Number.MAX_SAFE_INTEGER;

/** Tenant first: device ids are only unique within a tenant. `/` cannot occur in either. */
export function deviceCommandsId(tenant: string, deviceId: string): string {
  return `${tenant}/${deviceId}`;
}

/** A device's write: its new state, positions and events, and the document it replaces. */
export interface DeviceCommandsWrite {
  readonly id: string;
  readonly before: DeviceCommandsDocument | undefined;
  readonly state: DeviceCommandsState;
  readonly positions: readonly LogPosition[];
  /** The outbox after the write: what `before` had not published yet, then the new events. */
  readonly outbox: readonly ProcessorEvent[];
  readonly dueAtMs: number;
}

/**
 * Folds a batch (or, with no events, a timer sweep) into the devices' stored states (pure):
 * every input event not yet applied, then the clock at `nowMs` for every device loaded. Only
 * devices that changed are written; their outbox keeps any events still unpublished.
 */
export function planDevices(
  stored: ReadonlyMap<string, DeviceCommandsDocument>,
  ids: readonly string[],
  events: readonly PositionedEvent[],
  nowMs: number,
  timings: CommandTimings,
): DeviceCommandsWrite[] {
  const byDevice = new Map<string, PositionedEvent[]>();
  for (const positioned of events) {
    if (!isSagaInput(positioned.event)) continue;
    const id = deviceCommandsId(positioned.event.tenant, positioned.event.subject);
    let list = byDevice.get(id);
    if (list === undefined) byDevice.set(id, (list = []));
    list.push(positioned);
  }
  const writes: DeviceCommandsWrite[] = [];
  for (const id of ids) {
    const before = stored.get(id);
    const inputs = byDevice.get(id) ?? [];
    const first = inputs[0]?.event;
    if (before === undefined && first === undefined) continue;
    let state = before?.state ?? initialDeviceCommands(first?.tenant ?? '', first?.subject ?? '');
    let positions: readonly LogPosition[] = before?._meta.positions ?? [];
    const newEvents: ProcessorEvent[] = [];
    for (const { event, topic, partition, offset } of inputs) {
      const position = { topic, partition, offset };
      if (isApplied(positions, position) || !isSagaInput(event)) continue;
      const step = stepDevice(state, event, nowMs, timings);
      state = step.state;
      newEvents.push(...step.events);
      positions = [
        ...positions.filter((p) => p.topic !== topic || p.partition !== partition),
        position,
      ];
    }
    const tick = stepDevice(state, { type: 'tick' }, nowMs, timings);
    state = tick.state;
    newEvents.push(...tick.events);
    const changed =
      before === undefined || state !== before.state || positions !== before._meta.positions;
    if (!changed) continue;
    writes.push({
      id,
      before,
      state,
      positions,
      outbox: [...(before?.outbox ?? []), ...newEvents],
      dueAtMs: nextDueMs(state) ?? IDLE_DUE_MS,
    });
  }
  return writes;
}
