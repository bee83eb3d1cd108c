import { describe, expect, it } from 'vitest';
import { EventType } from '@gridstream/events';
import type { GridstreamEvent } from '@gridstream/events';
import type { PositionedEvent } from '@gridstream/kafka';
import { topicNames } from '@gridstream/kafka';
import { sagaInputsOf } from './input-topics.ts';

const topics = topicNames('t.');
const envelope = {
  source: 'test',
  subject: 'plug-1',
  tenant: 'acme',
  time: '2026-11-24T12:00:00Z',
};
const request: GridstreamEvent = {
  ...envelope,
  id: 'req',
  type: EventType.commandRequested,
  data: {
    commandId: 'c1',
    deviceId: 'plug-1',
    action: 'switch_off',
    parameters: {},
    priority: 'normal',
    correlationId: 'c1',
    requestedBy: 'ops',
    expiresAt: '2026-11-24T12:05:00Z',
  },
};
const cancellation: GridstreamEvent = {
  ...envelope,
  id: 'cancel',
  type: EventType.commandCancellationRequested,
  data: { commandId: 'c1', deviceId: 'plug-1', requestedBy: 'ops' },
};
const report: GridstreamEvent = {
  ...envelope,
  id: 'rep',
  type: EventType.commandReported,
  data: { commandId: 'c1', deviceId: 'plug-1', attempt: 1, outcome: 'succeeded' },
};
const on = (topic: string, event: GridstreamEvent, offset = '0'): PositionedEvent => ({
  event,
  topic,
  partition: 0,
  offset,
});

describe('the inputs of the command processor', () => {
  it('takes requests and cancellations from the commands topic and reports from the gateway topic', () => {
    const given = [on(topics.commands, request), on(topics.commands, cancellation, '1')];
    const gateway = [on(topics.gateway, report)];
    const log: string[] = [];
    expect(sagaInputsOf([...given, ...gateway], topics, (line) => log.push(line))).toEqual([
      ...given,
      ...gateway,
    ]);
    expect(log).toEqual([]);
  });

  it('ignores, with a log line naming it, an input read from the wrong topic', () => {
    // given a device report forged on the commands topic, and a request on the gateway topic
    const log: string[] = [];
    const inputs = sagaInputsOf(
      [on(topics.commands, report), on(topics.gateway, request), on(topics.gateway, cancellation)],
      topics,
      (line) => log.push(line),
    );
    // then none of them drives a command
    expect(inputs).toEqual([]);
    expect(log).toHaveLength(3);
    expect(log[0]).toContain(`${EventType.commandReported} (rep) read from t.commands`);
    expect(log[0]).toContain('t.gateway');
  });
});
