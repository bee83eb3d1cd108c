import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventType } from '@gridstream/events';
import type { CommandPriority, EventOf } from '@gridstream/events';
import { stepDevice } from './command-saga.ts';
import type { ProcessorEvent, SagaInput } from './command-saga.ts';
import { initialDeviceCommands, nextDueMs } from './device-commands.ts';
import type { CommandTimings, DeviceCommandsState } from './device-commands.ts';

const t0 = Date.parse('2026-11-24T12:00:00Z');
const timings: CommandTimings = {
  ackTimeoutMs: 1_000,
  resultTimeoutMs: 5_000,
  maxAttempts: 3,
  retryBackoffMs: 500,
  retryMaxBackoffMs: 10_000,
  maxPendingPerDevice: 100,
};
const envelope = { source: 'test', subject: 'plug-1', tenant: 'acme' };
const iso = (ms: number) => new Date(ms).toISOString();

const requested = (
  commandId: string,
  atMs = t0,
  priority: CommandPriority = 'normal',
  expiresInMs = 60_000,
): EventOf<typeof EventType.commandRequested> => ({
  ...envelope,
  id: `req-${commandId}`,
  type: EventType.commandRequested,
  time: iso(atMs),
  data: {
    commandId,
    deviceId: 'plug-1',
    action: 'switch_off',
    parameters: {},
    priority,
    correlationId: commandId,
    requestedBy: 'ops',
    expiresAt: iso(atMs + expiresInMs),
  },
});
const reported = (
  commandId: string,
  attempt: number,
  outcome: 'acknowledged' | 'succeeded' | 'failed',
  atMs: number,
): EventOf<typeof EventType.commandReported> => ({
  ...envelope,
  id: `rep-${commandId}-${attempt}-${outcome}`,
  type: EventType.commandReported,
  time: iso(atMs),
  data: {
    commandId,
    deviceId: 'plug-1',
    attempt,
    outcome,
    ...(outcome === 'failed' ? { reason: 'relay stuck' } : {}),
  },
});
const cancellation = (commandId: string, atMs: number): SagaInput => ({
  ...envelope,
  id: `cancel-${commandId}`,
  type: EventType.commandCancellationRequested,
  time: iso(atMs),
  data: { commandId, deviceId: 'plug-1', requestedBy: 'ops' },
});
const tick: SagaInput = { type: 'tick' };

/** Runs inputs at their times through the saga, collecting every event. */
function run(
  inputs: readonly (readonly [number, SagaInput])[],
  start = initialDeviceCommands('acme', 'plug-1'),
) {
  let state: DeviceCommandsState = start;
  const events: ProcessorEvent[] = [];
  for (const [atMs, input] of inputs) {
    const step = stepDevice(state, input, atMs, timings);
    state = step.state;
    events.push(...step.events);
  }
  return {
    state,
    events,
    steps: events.map(
      (e) => `${e.type.split('.')[2]}${'attempt' in e.data ? `:${e.data.attempt}` : ''}`,
    ),
  };
}

describe('the command saga', () => {
  it('dispatches a request at once, then records the acknowledgement and the success', () => {
    const { state, events, steps } = run([
      [t0, requested('c1')],
      [t0 + 200, reported('c1', 1, 'acknowledged', t0 + 200)],
      [t0 + 900, reported('c1', 1, 'succeeded', t0 + 900)],
    ]);
    expect(steps).toEqual(['dispatched:1', 'acknowledged:1', 'succeeded:1']);
    expect(events[0]).toMatchObject({
      type: EventType.commandDispatched,
      data: { ackDeadline: iso(t0 + 1_000), expiresAt: iso(t0 + 60_000) },
    });
    expect(state.commands).toEqual([]);
    expect(state.finished).toEqual([
      { commandId: 'c1', forgetAtMs: t0 + 60_000, correlationId: 'c1' },
    ]);
    // every event of the command carries its request's correlationId
    expect(events.map((e) => e.data.correlationId)).toEqual(['c1', 'c1', 'c1']);
  });

  it('retries an unacknowledged attempt with backoff, then times out after the last', () => {
    const { steps, events, state } = run([
      [t0, requested('c1')],
      [t0 + 1_000, tick], // attempt 1 unanswered: retry in 500 ms
      [t0 + 1_500, tick], // attempt 2 out
      [t0 + 2_500, tick], // unanswered: retry in 1000 ms
      [t0 + 3_500, tick], // attempt 3 out
      [t0 + 4_500, tick], // unanswered, no attempts left
    ]);
    expect(steps).toEqual([
      'dispatched:1',
      'retry-scheduled:1',
      'dispatched:2',
      'retry-scheduled:2',
      'dispatched:3',
      'timed-out',
    ]);
    expect(events[1]?.data).toMatchObject({ retryAt: iso(t0 + 1_500) });
    expect(events[3]?.data).toMatchObject({ retryAt: iso(t0 + 3_500) });
    expect(events[5]?.data).toMatchObject({ attempts: 3, waitingFor: 'acknowledgement' });
    expect(nextDueMs(state)).toBeUndefined();
  });

  it('times out an acknowledged command without a result, and does not retry it', () => {
    const { steps } = run([
      [t0, requested('c1')],
      [t0 + 100, reported('c1', 1, 'acknowledged', t0 + 100)],
      [t0 + 5_100, tick],
    ]);
    expect(steps).toEqual(['dispatched:1', 'acknowledged:1', 'timed-out']);
  });

  it('records a failure with the device reason', () => {
    const { events } = run([
      [t0, requested('c1')],
      [t0 + 100, reported('c1', 1, 'failed', t0 + 100)],
    ]);
    expect(events.at(-1)).toMatchObject({
      type: EventType.commandFailed,
      data: { reason: 'relay stuck' },
    });
  });

  it('expires a command that was not acknowledged by its expiry, and never sends it again', () => {
    const { steps } = run([
      [t0, requested('c1', t0, 'normal', 1_200)],
      [t0 + 1_000, tick], // unanswered: retry at 1_500, after the expiry
      [t0 + 1_200, tick],
      [t0 + 5_000, tick],
    ]);
    expect(steps).toEqual(['dispatched:1', 'retry-scheduled:1', 'expired']);
  });

  it('cancels a queued command at once, a dispatched one at its ack deadline, an acknowledged one not at all', () => {
    const { steps, events } = run([
      [t0, requested('c1')],
      [t0 + 10, requested('c2')],
      [t0 + 15, requested('c3')],
      [t0 + 20, cancellation('c3', t0 + 20)], // queued: cancelled at once
      [t0 + 30, cancellation('c1', t0 + 30)], // dispatched: the device may still take it
      [t0 + 500, tick],
      [t0 + 1_000, tick], // c1's ack deadline: no ack, so it is cancelled; c2 goes out
      [t0 + 1_030, reported('c2', 1, 'acknowledged', t0 + 1_030)],
      [t0 + 1_040, cancellation('c2', t0 + 1_040)],
      [t0 + 1_050, reported('c2', 1, 'succeeded', t0 + 1_050)],
    ]);
    expect(steps).toEqual([
      'dispatched:1',
      'cancelled',
      'cancelled',
      'dispatched:1',
      'acknowledged:1',
      'succeeded:1',
    ]);
    expect(events.filter((e) => e.type === EventType.commandCancelled)).toMatchObject([
      { time: iso(t0 + 20), data: { commandId: 'c3', attempts: 0 } },
      { time: iso(t0 + 1_000), data: { commandId: 'c1', attempts: 1, requestedBy: 'ops' } },
    ]);
  });

  it('lets an acknowledgement before the deadline win over a cancellation of the dispatched attempt', () => {
    // given a dispatched command whose cancellation the processor has read
    // when the device's acknowledgement, sent before the deadline, comes after it
    const { steps } = run([
      [t0, requested('c1')],
      [t0 + 100, cancellation('c1', t0 + 100)],
      [t0 + 200, reported('c1', 1, 'acknowledged', t0 + 150)],
      [t0 + 1_500, tick],
      [t0 + 1_600, reported('c1', 1, 'succeeded', t0 + 1_600)],
    ]);
    // then the device took it: acknowledged, not retried, and its result recorded
    expect(steps).toEqual(['dispatched:1', 'acknowledged:1', 'succeeded:1']);
  });

  it('does not retry a dispatched command being cancelled, even when its expiry is later', () => {
    const { steps, state } = run([
      [t0, requested('c1')],
      [t0 + 100, cancellation('c1', t0 + 100)],
      [t0 + 1_000, tick],
      [t0 + 5_000, tick],
    ]);
    expect(steps).toEqual(['dispatched:1', 'cancelled']);
    expect(state.commands).toEqual([]);
  });

  it('accepts a late result of an earlier attempt and sends no further attempt', () => {
    const { steps } = run([
      [t0, requested('c1')],
      [t0 + 1_000, tick],
      [t0 + 1_200, reported('c1', 1, 'succeeded', t0 + 1_200)],
      [t0 + 5_000, tick],
    ]);
    expect(steps).toEqual(['dispatched:1', 'retry-scheduled:1', 'succeeded:1']);
  });

  it('ignores a repeated request and reports of unknown commands', () => {
    const { steps } = run([
      [t0, requested('c1')],
      [t0 + 5, requested('c1')],
      [t0 + 1_000, tick],
      [t0 + 1_200, reported('nope', 1, 'succeeded', t0 + 1_200)],
      [t0 + 1_500, tick],
      [t0 + 1_600, reported('c1', 2, 'succeeded', t0 + 1_600)],
      [t0 + 1_700, requested('c1')],
    ]);
    expect(steps).toEqual(['dispatched:1', 'retry-scheduled:1', 'dispatched:2', 'succeeded:2']);
  });

  it('takes a late acknowledgement of an earlier attempt: the retry waiting for its time is dropped', () => {
    // given attempt 1 unanswered by its deadline, its retry scheduled
    // when the device's acknowledgement of attempt 1 arrives before the retry goes out
    const { steps, state } = run([
      [t0, requested('c1')],
      [t0 + 1_000, tick],
      [t0 + 1_100, reported('c1', 1, 'acknowledged', t0 + 900)],
      [t0 + 1_500, tick],
      [t0 + 9_000, tick],
    ]);
    // then the command is acknowledged, never dispatched again, and times out waiting for a result
    expect(steps).toEqual(['dispatched:1', 'retry-scheduled:1', 'acknowledged:1', 'timed-out']);
    expect(state.commands).toEqual([]);
  });

  it('takes a late acknowledgement when the retry is due and queued behind another command', () => {
    // given c1's attempt 1 unanswered, and c2 dispatched while c1 waits for its retry
    const { steps } = run([
      [t0, requested('c1')],
      [t0 + 1_000, tick],
      [t0 + 1_100, requested('c2', t0 + 1_100, 'high')],
      [t0 + 1_500, tick], // c1's retry is due, but c2 is in flight: c1 is queued again
      [t0 + 1_600, reported('c1', 1, 'acknowledged', t0 + 950)],
      [t0 + 1_700, reported('c2', 1, 'succeeded', t0 + 1_700)],
    ]);
    // then c1 is acknowledged and not sent again once c2 is done
    expect(steps).toEqual([
      'dispatched:1',
      'retry-scheduled:1',
      'dispatched:1',
      'acknowledged:1',
      'succeeded:1',
    ]);
  });

  it('takes an acknowledgement of an earlier attempt while a later one is in flight, and sends no more', () => {
    const { steps } = run([
      [t0, requested('c1')],
      [t0 + 1_000, tick],
      [t0 + 1_500, tick], // attempt 2 out
      [t0 + 1_600, reported('c1', 1, 'acknowledged', t0 + 990)],
      [t0 + 1_700, reported('c1', 2, 'acknowledged', t0 + 1_700)],
      [t0 + 2_500, tick], // attempt 2's ack deadline: no retry, it is acknowledged
    ]);
    expect(steps).toEqual(['dispatched:1', 'retry-scheduled:1', 'dispatched:2', 'acknowledged:1']);
  });

  it('records a report about a finished command as late, with what the device said', () => {
    // given a command that expired, and one cancelled while its acknowledgement was on its way
    const { events, steps } = run([
      [t0, requested('c1', t0, 'normal', 1_200)],
      [t0 + 1_000, tick],
      [t0 + 1_200, tick], // expired
      [t0 + 1_300, reported('c1', 1, 'succeeded', t0 + 1_150)],
      [t0 + 1_400, requested('c2', t0 + 1_400)],
      [t0 + 1_500, cancellation('c2', t0 + 1_450)],
      [t0 + 2_400, tick], // c2's ack deadline: cancelled
      [t0 + 2_500, reported('c2', 1, 'acknowledged', t0 + 2_390)],
    ]);
    // then the final status stands, and each report is recorded, not dropped
    expect(steps).toEqual([
      'dispatched:1',
      'retry-scheduled:1',
      'expired',
      'late-reported:1',
      'dispatched:1',
      'cancelled',
      'late-reported:1',
    ]);
    expect(events[3]).toMatchObject({
      type: EventType.commandLateReported,
      time: iso(t0 + 1_300),
      data: { commandId: 'c1', attempt: 1, outcome: 'succeeded', reportedAt: iso(t0 + 1_150) },
    });
    expect(events[6]?.data).toMatchObject({ commandId: 'c2', outcome: 'acknowledged' });
  });

  it("stamps its events with the processor's clock, and keeps the device's time as reportedAt", () => {
    // given a device whose clock is 5 minutes behind, and a cancellation stamped by the API
    const behindMs = 300_000;
    const { events } = run([
      [t0, requested('c1')],
      [t0 + 200, reported('c1', 1, 'acknowledged', t0 + 200 - behindMs)],
      [t0 + 900, reported('c1', 1, 'failed', t0 + 900 - behindMs)],
      [t0 + 1_000, requested('c2', t0 + 1_000)],
      [t0 + 1_100, cancellation('c2', t0 + 1_050)],
      [t0 + 2_000, tick], // c2's ack deadline: cancelled
    ]);
    // then every event is at the processor's time; the reports keep the device's
    expect(events.map((e) => [e.type.split('.')[2], e.time])).toEqual([
      ['dispatched', iso(t0)],
      ['acknowledged', iso(t0 + 200)],
      ['failed', iso(t0 + 900)],
      ['dispatched', iso(t0 + 1_000)],
      ['cancelled', iso(t0 + 2_000)],
    ]);
    expect(events[1]?.data).toMatchObject({ reportedAt: iso(t0 + 200 - behindMs) });
    expect(events[2]?.data).toMatchObject({ reportedAt: iso(t0 + 900 - behindMs) });
  });

  it('rejects a request beyond the pending commands a device may have, with the reason', () => {
    // given a device with a cap of 2 pending commands, both taken (one in flight, one queued)
    const capped = { ...timings, maxPendingPerDevice: 2 };
    let state = initialDeviceCommands('acme', 'plug-1');
    const events: ProcessorEvent[] = [];
    for (const [atMs, input] of [
      [t0, requested('c1')],
      [t0 + 1, requested('c2')],
      [t0 + 2, requested('c3')], // when a third is requested
      [t0 + 3, reported('c1', 1, 'succeeded', t0 + 3)],
      [t0 + 4, requested('c4')], // and a fourth once one is over
    ] as const) {
      const step = stepDevice(state, input, atMs, capped);
      state = step.state;
      events.push(...step.events);
    }
    // then the third is rejected at once, never queued; the fourth is taken again
    expect(events.map((e) => `${e.type.split('.')[2]}:${e.data.commandId}`)).toEqual([
      'dispatched:c1',
      'rejected:c3',
      'succeeded:c1',
      'dispatched:c2',
    ]);
    expect(events[1]).toMatchObject({
      time: iso(t0 + 2),
      data: { reason: 'queue-full', pendingCommands: 2 },
    });
    expect(state.commands.map((c) => c.commandId)).toEqual(['c2', 'c4']);
    // and a repeat of the rejected request is the same command: not queued later
    expect(stepDevice(state, requested('c3'), t0 + 5, timings).events).toEqual([]);
  });

  it('remembers a finished command until its expiry, however many finish after it', () => {
    // given c1 succeeded, then 600 more commands of the device finished
    const inputs: [number, SagaInput][] = [
      [t0, requested('c1')],
      [t0 + 1, reported('c1', 1, 'succeeded', t0 + 1)],
    ];
    for (let i = 0; i < 600; i++) {
      const at = t0 + 10 + i * 2;
      inputs.push(
        [at, requested(`n${i}`, at)],
        [at + 1, reported(`n${i}`, 1, 'succeeded', at + 1)],
      );
    }
    const { state } = run(inputs);
    // when c1's request is published again before its expiry (t0 + 60 s)
    const repeat = stepDevice(state, requested('c1'), t0 + 30_000, timings);
    // then it is the same command, over: nothing is dispatched
    expect(repeat.events).toEqual([]);
    // and a finished command is forgotten once its expiry (and the wait for a late report) passed
    const later = stepDevice(state, tick, t0 + 10 * 60_000, timings);
    expect(later.state.finished).toEqual([]);
    // and a bare id, as documents written before kept them, still counts as finished
    const older = { ...initialDeviceCommands('acme', 'plug-1'), finished: ['c0'] };
    expect(stepDevice(older, requested('c0'), t0, timings).events).toEqual([]);
  });

  it('dispatches waiting commands by priority, then by age, one at a time', () => {
    const priorities = fc.constantFrom<CommandPriority>('low', 'normal', 'high');
    fc.assert(
      fc.property(fc.array(priorities, { minLength: 1, maxLength: 8 }), (given) => {
        // given a device busy with a first command, and more requested meanwhile
        const inputs: [number, SagaInput][] = [[t0, requested('first')]];
        given.forEach((priority, i) =>
          inputs.push([t0 + 1 + i, requested(`c${i}`, t0 + 1 + i, priority)]),
        );
        // when each dispatched command succeeds in turn
        let { state, events } = run(inputs);
        let at = t0 + 100;
        for (let i = 0; i <= given.length; i++) {
          const inFlight = state.commands.find((c) => c.phase === 'dispatched');
          if (inFlight === undefined) break;
          const next = run([[at, reported(inFlight.commandId, 1, 'succeeded', at)]], state);
          state = next.state;
          events = [...events, ...next.events];
          at += 10;
        }
        // then they went out high before normal before low, older first within a priority
        const rank = { high: 0, normal: 1, low: 2 };
        const expected = given
          .map((priority, i) => ({ id: `c${i}`, priority, i }))
          .sort((a, b) => rank[a.priority] - rank[b.priority] || a.i - b.i)
          .map((c) => c.id);
        const dispatched = events
          .filter((e) => e.type === EventType.commandDispatched)
          .map((e) => e.data.commandId);
        expect(dispatched).toEqual(['first', ...expected]);
      }),
    );
  });

  it('derives every event id from command and step, so a step redone repeats its ids', () => {
    const inputs: [number, SagaInput][] = [
      [t0, requested('c1')],
      [t0 + 1_000, tick],
      [t0 + 1_500, tick],
    ];
    const once = run(inputs).events.map((e) => e.id);
    expect(new Set(once).size).toBe(once.length);
    expect(run(inputs).events.map((e) => e.id)).toEqual(once);
  });

  it("gives every event of a command its request's correlationId, whatever befalls it", () => {
    const commandIds = ['c1', 'c2', 'c3'];
    const anyInput = fc.oneof(
      fc.record({
        kind: fc.constant('request' as const),
        commandId: fc.constantFrom(...commandIds),
        expiresInMs: fc.integer({ min: 500, max: 20_000 }),
      }),
      fc.record({
        kind: fc.constant('report' as const),
        commandId: fc.constantFrom(...commandIds),
        attempt: fc.integer({ min: 1, max: 3 }),
        outcome: fc.constantFrom('acknowledged' as const, 'succeeded' as const, 'failed' as const),
      }),
      fc.record({
        kind: fc.constant('cancel' as const),
        commandId: fc.constantFrom(...commandIds),
      }),
      fc.record({ kind: fc.constant('tick' as const) }),
    );
    // a queue of two, so some requests are rejected
    const small = { ...timings, maxPendingPerDevice: 2 };
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 2_000 }), anyInput), { maxLength: 40 }),
        (given) => {
          let state = initialDeviceCommands('acme', 'plug-1');
          let atMs = t0;
          const events: ProcessorEvent[] = [];
          for (const [afterMs, input] of given) {
            atMs += afterMs;
            const sagaInput: SagaInput =
              input.kind === 'request'
                ? (() => {
                    const request = requested(input.commandId, atMs, 'normal', input.expiresInMs);
                    return {
                      ...request,
                      data: { ...request.data, correlationId: `trace-${input.commandId}` },
                    };
                  })()
                : input.kind === 'report'
                  ? reported(input.commandId, input.attempt, input.outcome, atMs)
                  : input.kind === 'cancel'
                    ? cancellation(input.commandId, atMs)
                    : tick;
            const step = stepDevice(state, sagaInput, atMs, small);
            state = step.state;
            events.push(...step.events);
          }
          for (const event of events)
            expect(event.data.correlationId).toBe(`trace-${event.data.commandId}`);
        },
      ),
    );
  });
});
