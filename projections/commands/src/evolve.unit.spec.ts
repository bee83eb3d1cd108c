import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import { commandDocumentId, evolveCommand } from './evolve.ts';
import type { CommandView } from './evolve.ts';
import { commandStats, percentile } from './stats.ts';

const envelope = { source: 'test', subject: 'plug-1', tenant: 'acme' };
const ref = { commandId: 'c1', deviceId: 'plug-1' };
const at = (s: number) => new Date(Date.parse('2026-11-24T12:00:00Z') + s * 1000).toISOString();

const lifecycle: GridstreamEvent[] = [
  {
    ...envelope,
    id: 'e-req',
    type: EventType.commandRequested,
    time: at(0),
    data: {
      ...ref,
      action: 'switch_off',
      parameters: {},
      priority: 'high',
      correlationId: 'corr',
      requestedBy: 'ops',
      expiresAt: at(300),
      deviceKind: 'smart_plug',
    },
  },
  {
    ...envelope,
    id: 'e-d1',
    type: EventType.commandDispatched,
    time: at(1),
    data: {
      ...ref,
      attempt: 1,
      action: 'switch_off',
      parameters: {},
      priority: 'high',
      ackDeadline: at(11),
      expiresAt: at(300),
    },
  },
  {
    ...envelope,
    id: 'e-r1',
    type: EventType.commandRetryScheduled,
    time: at(11),
    data: { ...ref, attempt: 1, retryAt: at(13) },
  },
  {
    ...envelope,
    id: 'e-d2',
    type: EventType.commandDispatched,
    time: at(13),
    data: {
      ...ref,
      attempt: 2,
      action: 'switch_off',
      parameters: {},
      priority: 'high',
      ackDeadline: at(23),
      expiresAt: at(300),
    },
  },
  {
    ...envelope,
    id: 'e-a2',
    type: EventType.commandAcknowledged,
    time: at(14),
    data: { ...ref, attempt: 2 },
  },
  {
    ...envelope,
    id: 'e-s2',
    type: EventType.commandSucceeded,
    time: at(15),
    data: { ...ref, attempt: 2 },
  },
];

const fold = (events: readonly GridstreamEvent[]) =>
  events.reduce<CommandView | null>((view, event) => evolveCommand(view, event), null);

describe('evolveCommand', () => {
  it('folds the lifecycle into status, attempts, latency and a timeline', () => {
    const view = fold(lifecycle);
    expect(view).toMatchObject({
      tenant: 'acme',
      commandId: 'c1',
      deviceId: 'plug-1',
      status: 'succeeded',
      attempts: 2,
      action: 'switch_off',
      deviceKind: 'smart_plug',
      requestedAt: at(0),
      finishedAt: at(15),
      latencyMs: 15_000,
    });
    expect(
      view?.timeline.map((e) => `${e.step}${e.attempt === undefined ? '' : `:${e.attempt}`}`),
    ).toEqual([
      'requested',
      'dispatched:1',
      'retry-scheduled:1',
      'dispatched:2',
      'acknowledged:2',
      'succeeded:2',
    ]);
  });

  it('gives the same document whatever the order and duplication of its events', () => {
    const expected = fold(lifecycle);
    fc.assert(
      fc.property(
        fc.shuffledSubarray(lifecycle, {
          minLength: lifecycle.length,
          maxLength: lifecycle.length,
        }),
        fc.array(fc.constantFrom(...lifecycle), { maxLength: 4 }),
        (shuffled, repeats) => {
          // one final status, the furthest step kept: any order ends in the same document
          expect(fold([...shuffled, ...repeats])).toEqual(expected);
        },
      ),
    );
  });

  it('shows a late acknowledgement of an earlier attempt as acknowledged, in any order', () => {
    // given attempt 1 given up, attempt 2 out, then the device's acknowledgement of attempt 1
    const [request, dispatch1, retry1, dispatch2] = lifecycle as [
      GridstreamEvent,
      GridstreamEvent,
      GridstreamEvent,
      GridstreamEvent,
    ];
    const lateAck: GridstreamEvent = {
      ...envelope,
      id: 'e-a1',
      type: EventType.commandAcknowledged,
      time: at(14),
      data: { ...ref, attempt: 1 },
    };
    // then no further dispatch follows an acknowledgement, so it is the furthest step
    expect(fold([request, dispatch1, retry1, dispatch2, lateAck])?.status).toBe('acknowledged');
    expect(fold([request, lateAck, dispatch2, retry1, dispatch1])?.status).toBe('acknowledged');
  });

  it('keeps a late report in the timeline of a finished command, its status unchanged', () => {
    const lateSuccess: GridstreamEvent = {
      ...envelope,
      id: 'e-late',
      type: EventType.commandLateReported,
      time: at(20),
      data: { ...ref, attempt: 1, outcome: 'succeeded', reportedAt: at(19) },
    };
    const view = fold([...lifecycle, lateSuccess]);
    expect(view).toMatchObject({ status: 'succeeded', finishedAt: at(15) });
    expect(view?.timeline.at(-1)).toEqual({
      eventId: 'e-late',
      step: 'late-reported',
      at: at(20),
      attempt: 1,
      detail: { outcome: 'succeeded', reportedAt: at(19) },
    });
  });

  it("keeps the device's time of a report in the step's detail", () => {
    const [request, dispatch1] = lifecycle as [GridstreamEvent, GridstreamEvent];
    const failed: GridstreamEvent = {
      ...envelope,
      id: 'e-f1',
      type: EventType.commandFailed,
      time: at(3),
      data: { ...ref, attempt: 1, reason: 'relay stuck', reportedAt: at(-100) },
    };
    const view = fold([request, dispatch1, failed]);
    expect(view).toMatchObject({ finishedAt: at(3), latencyMs: 3_000 });
    expect(view?.timeline.at(-1)?.detail).toEqual({ reason: 'relay stuck', reportedAt: at(-100) });
  });

  it('shows a request the processor rejected as rejected, with the reason, for good', () => {
    const [request] = lifecycle as [GridstreamEvent];
    const rejected: GridstreamEvent = {
      ...envelope,
      id: 'e-rej',
      type: EventType.commandRejected,
      time: at(1),
      data: { ...ref, reason: 'queue-full', pendingCommands: 100 },
    };
    const view = fold([request, rejected]);
    expect(view).toMatchObject({ status: 'rejected', reason: 'queue-full', finishedAt: at(1) });
    expect(view?.timeline.at(-1)).toMatchObject({
      step: 'rejected',
      detail: { reason: 'queue-full', pendingCommands: 100 },
    });
    expect(fold([rejected, request])).toEqual(view);
  });

  it("shows who asked to cancel, and why, in the cancellation's step", () => {
    const [request] = lifecycle as [GridstreamEvent];
    const cancellation: GridstreamEvent = {
      ...envelope,
      id: 'e-cr',
      type: EventType.commandCancellationRequested,
      time: at(2),
      data: { ...ref, correlationId: 'corr', requestedBy: 'key:k1', reason: 'wrong plug' },
    };
    const view = fold([request, cancellation]);
    expect(view?.timeline.at(-1)).toMatchObject({
      step: 'cancellation-requested',
      detail: { requestedBy: 'key:k1', reason: 'wrong plug' },
    });
  });

  it('ignores device reports, and non-command events', () => {
    const report: GridstreamEvent = {
      ...envelope,
      id: 'rep',
      type: EventType.commandReported,
      time: at(2),
      data: { ...ref, attempt: 1, outcome: 'acknowledged' },
    };
    expect(commandDocumentId(report)).toBeUndefined();
    expect(commandDocumentId(lifecycle[0] as GridstreamEvent)).toBe('acme/c1');
    expect(evolveCommand(null, report)).toBeNull();
  });
});

describe('commandStats', () => {
  it('gives success rate and latency percentiles per action and device kind', () => {
    const rows = [
      ...[100, 200, 300, 400, 1000].map((latencyMs) => ({
        action: 'switch_off',
        deviceKind: 'smart_plug',
        status: 'succeeded' as const,
        latencyMs,
      })),
      { action: 'switch_off', deviceKind: 'smart_plug', status: 'failed' as const },
      { action: 'switch_off', deviceKind: 'smart_plug', status: 'cancelled' as const },
      { action: 'set_power_limit', deviceKind: 'battery', status: 'timed-out' as const },
      { action: 'set_power_limit', deviceKind: 'battery', status: 'dispatched' as const },
    ];
    expect(commandStats(rows)).toEqual([
      {
        action: 'set_power_limit',
        deviceKind: 'battery',
        total: 2,
        byStatus: { 'timed-out': 1, dispatched: 1 },
        successRate: 0,
        latencyMs: null,
      },
      {
        action: 'switch_off',
        deviceKind: 'smart_plug',
        total: 7,
        byStatus: { succeeded: 5, failed: 1, cancelled: 1 },
        successRate: 5 / 6,
        latencyMs: { p50: 300, p90: 1000, p99: 1000, max: 1000 },
      },
    ]);
  });

  it('takes the nearest-rank percentile', () => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(percentile([7], 50)).toBe(7);
  });
});
