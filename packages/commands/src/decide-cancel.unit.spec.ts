import { describe, expect, it } from 'vitest';
import { decideCancel } from './decide-cancel.ts';

const nowMs = Date.parse('2026-11-24T12:00:00Z');
const cancel = { tenant: 'acme', commandId: 'cmd-1', requestedBy: 'ops' };

describe('decideCancel', () => {
  it('asks to cancel a command the device has not acknowledged, with one id however often asked', () => {
    const command = { commandId: 'cmd-1', deviceId: 'plug-1', stage: 'pending' as const };
    const first = decideCancel(command, cancel, nowMs);
    const again = decideCancel(command, cancel, nowMs + 1000);
    expect(first).toMatchObject({
      accepted: true,
      event: {
        type: 'gridstream.command.cancellation-requested.v1',
        subject: 'plug-1',
        data: { commandId: 'cmd-1', deviceId: 'plug-1', requestedBy: 'ops' },
      },
    });
    expect(first.accepted && again.accepted && first.event.id === again.event.id).toBe(true);
  });

  it("carries the command's correlationId and the reason given", () => {
    const command = {
      commandId: 'cmd-1',
      deviceId: 'plug-1',
      stage: 'pending' as const,
      correlationId: 'trace-7',
    };
    expect(decideCancel(command, { ...cancel, reason: 'wrong plug' }, nowMs)).toMatchObject({
      accepted: true,
      event: { data: { correlationId: 'trace-7', reason: 'wrong plug' } },
    });
  });

  it.each([
    [undefined, 'NOT_FOUND', 'command-not-found'],
    ['acknowledged', 'CONFLICT', 'command-acknowledged'],
    ['finished', 'CONFLICT', 'command-finished'],
  ] as const)('refuses a command that is %s', (stage, code, reason) => {
    const command =
      stage === undefined ? undefined : { commandId: 'cmd-1', deviceId: 'plug-1', stage };
    expect(decideCancel(command, cancel, nowMs)).toMatchObject({
      accepted: false,
      refusal: { code, reason },
    });
  });
});
