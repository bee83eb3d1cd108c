import { describe, expect, it } from 'vitest';
import { EventType } from '@gridstream/events';
import type { EventOf } from '@gridstream/events';
import type { PositionedEvent } from '@gridstream/kafka';
import type { CommandTimings } from './device-commands.ts';
import { IDLE_DUE_MS, planDevices } from './plan.ts';
import type { DeviceCommandsDocument } from './plan.ts';

const t0 = Date.parse('2026-11-24T12:00:00Z');
const timings: CommandTimings = {
  ackTimeoutMs: 1_000,
  resultTimeoutMs: 5_000,
  maxAttempts: 3,
  retryBackoffMs: 500,
  retryMaxBackoffMs: 10_000,
  maxPendingPerDevice: 100,
};
const requested: EventOf<typeof EventType.commandRequested> = {
  id: 'req-c1',
  type: EventType.commandRequested,
  source: 'test',
  subject: 'plug-1',
  time: new Date(t0).toISOString(),
  tenant: 'acme',
  data: {
    commandId: 'c1',
    deviceId: 'plug-1',
    action: 'switch_off',
    parameters: {},
    priority: 'normal',
    correlationId: 'c1',
    requestedBy: 'ops',
    expiresAt: new Date(t0 + 60_000).toISOString(),
  },
};
const at = (offset: string): PositionedEvent => ({
  event: requested,
  topic: 'commands',
  partition: 0,
  offset,
});
const id = 'acme/plug-1';

/** The document a write would leave, as the store writes it. */
function stored(write: ReturnType<typeof planDevices>[number]): DeviceCommandsDocument {
  return {
    _id: write.id,
    state: write.state,
    _meta: { version: (write.before?._meta.version ?? 0) + 1, positions: write.positions },
    outbox: write.outbox,
    hasOutbox: write.outbox.length > 0,
    dueAtMs: write.dueAtMs,
  };
}

describe('planDevices', () => {
  it('writes a new device with its position, its dispatch in the outbox and its timer', () => {
    const [write] = planDevices(new Map(), [id], [at('7')], t0, timings);
    expect(write?.positions).toEqual([{ topic: 'commands', partition: 0, offset: '7' }]);
    expect(write?.outbox.map((e) => e.type)).toEqual([EventType.commandDispatched]);
    expect(write?.dueAtMs).toBe(t0 + 1_000);
  });

  it('changes nothing for an event it has applied (a redelivery after a crash)', () => {
    const [first] = planDevices(new Map(), [id], [at('7')], t0, timings);
    if (first === undefined) throw new Error('a write expected');
    const document = { ...stored(first), outbox: [], hasOutbox: false };
    expect(planDevices(new Map([[id, document]]), [id], [at('7')], t0 + 10, timings)).toEqual([]);
  });

  it('keeps an unpublished outbox ahead of the new events', () => {
    const [first] = planDevices(new Map(), [id], [at('7')], t0, timings);
    if (first === undefined) throw new Error('a write expected');
    // when the clock passes the acknowledgement deadline before the outbox was published
    const [next] = planDevices(new Map([[id, stored(first)]]), [id], [], t0 + 1_000, timings);
    expect(next?.outbox.map((e) => e.type)).toEqual([
      EventType.commandDispatched,
      EventType.commandRetryScheduled,
    ]);
    expect(next?.dueAtMs).toBe(t0 + 1_500);
  });

  it('marks a device with nothing left to do as never due', () => {
    const [first] = planDevices(new Map(), [id], [at('7')], t0, timings);
    if (first === undefined) throw new Error('a write expected');
    const report: PositionedEvent = {
      event: {
        id: 'rep',
        type: EventType.commandReported,
        source: 'test',
        subject: 'plug-1',
        time: new Date(t0 + 100).toISOString(),
        tenant: 'acme',
        data: { commandId: 'c1', deviceId: 'plug-1', attempt: 1, outcome: 'succeeded' },
      },
      topic: 'gateway',
      partition: 0,
      offset: '3',
    };
    const [done] = planDevices(new Map([[id, stored(first)]]), [id], [report], t0 + 100, timings);
    expect(done?.dueAtMs).toBe(IDLE_DUE_MS);
    expect(done?.positions).toHaveLength(2);
  });
});
