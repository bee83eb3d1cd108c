import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { commandIdFor } from './command-ids.ts';
import { requestFingerprint } from './idempotency.ts';
import { decideKey, decideRequest, fingerprintOf, fingerprintsOf } from './decide-request.ts';
import type { CommandRequest, DeviceFacts, IdempotencyRecord } from './decide-request.ts';

const nowMs = Date.parse('2026-11-24T12:00:00Z');
const rules = { defaultTtlMs: 300_000, maxTtlMs: 86_400_000 };
const battery: DeviceFacts = { status: 'active', kind: 'battery', ratedPowerW: 5000 };
const request = (overrides: Partial<CommandRequest> = {}): CommandRequest => ({
  tenant: 'acme',
  deviceId: 'battery-1',
  idempotencyKey: 'key-1',
  action: 'set_power_limit',
  parameters: { limitW: 3000 },
  priority: 'normal',
  requestedBy: 'ops',
  ...overrides,
});

describe('decideRequest', () => {
  it('accepts a valid command as command.requested, its id derived from tenant and key', () => {
    // given an active battery, when it is asked to limit its power
    const decision = decideRequest(battery, request(), nowMs, rules);
    // then the command is requested, expiring after the default time to live
    expect(decision).toMatchObject({
      accepted: true,
      event: {
        type: 'gridstream.command.requested.v1',
        subject: 'battery-1',
        tenant: 'acme',
        time: '2026-11-24T12:00:00.000Z',
        data: {
          commandId: commandIdFor('acme', 'key-1'),
          action: 'set_power_limit',
          parameters: { limitW: 3000 },
          expiresAt: '2026-11-24T12:05:00.000Z',
          deviceKind: 'battery',
          idempotencyKey: 'key-1',
        },
      },
    });
  });

  it.each([
    ['an unknown device', undefined, request(), 'NOT_FOUND', 'device-not-found', undefined],
    [
      'a decommissioned device',
      { ...battery, status: 'decommissioned' as const },
      request(),
      'CONFLICT',
      'device-decommissioned',
      undefined,
    ],
    [
      'a device that reported but was never registered',
      { status: 'unregistered' as const },
      request(),
      'CONFLICT',
      'device-not-registered',
      undefined,
    ],
    [
      'an unknown action',
      battery,
      request({ action: 'explode' }),
      'VALIDATION',
      'unknown-action',
      'action',
    ],
    [
      'an action the kind cannot do',
      battery,
      request({ action: 'switch_off', parameters: {} }),
      'REFUSED',
      'action-not-supported',
      'action',
    ],
    [
      'a parameter of the wrong type',
      battery,
      request({ parameters: { limitW: 'lots' } }),
      'VALIDATION',
      'invalid-parameters',
      'parameters.limitW',
    ],
    [
      'an unknown parameter',
      battery,
      request({ parameters: { limitW: 1, turbo: true } }),
      'VALIDATION',
      'invalid-parameters',
      'parameters',
    ],
    [
      'a limit above the rating',
      battery,
      request({ parameters: { limitW: 9000 } }),
      'VALIDATION',
      'invalid-parameters',
      'parameters.limitW',
    ],
    [
      'an expiry in the past',
      battery,
      request({ expiresAt: '2026-11-24T11:59:00Z' }),
      'VALIDATION',
      'invalid-expiry',
      'expiresAt',
    ],
  ] as const)('refuses %s', (_what, device, given, code, reason, path) => {
    const decision = decideRequest(device, given, nowMs, rules);
    expect(decision.accepted).toBe(false);
    if (decision.accepted) return;
    expect(decision.refusal).toMatchObject({ code, reason });
    if (path !== undefined) expect(decision.refusal.issues?.[0]?.path).toBe(path);
  });
});

describe('the Idempotency-Key', () => {
  it('replays the command a key made, and refuses the key for another request', () => {
    const first = decideRequest(battery, request(), nowMs, rules);
    if (!first.accepted) throw new Error('accepted expected');
    const record: IdempotencyRecord = { fingerprint: fingerprintOf(request()), event: first.event };
    expect(decideKey(undefined, fingerprintsOf(request()), 'key-1')).toEqual({ kind: 'new' });
    // the same request again, its parameters' keys in another order: the same command
    expect(
      decideKey(record, fingerprintsOf(request({ parameters: { limitW: 3000 } })), 'key-1'),
    ).toEqual({
      kind: 'replay',
      event: first.event,
    });
    // another request under the same key: refused
    expect(
      decideKey(record, fingerprintsOf(request({ parameters: { limitW: 2000 } })), 'key-1'),
    ).toMatchObject({
      kind: 'refused',
      refusal: { code: 'CONFLICT', reason: 'idempotency-key-reused' },
    });
  });

  it('compares the expiry by value: the API echoes …:00.000Z for …:00Z, the same request', () => {
    const written = fingerprintOf(request({ expiresAt: '2026-11-20T12:05:00Z' }));
    expect(fingerprintOf(request({ expiresAt: '2026-11-20T12:05:00.000Z' }))).toBe(written);
    expect(fingerprintOf(request({ expiresAt: '2026-11-20T13:05:00+01:00' }))).toBe(written);
    expect(fingerprintOf(request({ expiresAt: '2026-11-20T12:05:01Z' }))).not.toBe(written);
  });

  it('takes the correlationId the API echoes for none (the command id) as none', () => {
    const commandId = commandIdFor('acme', 'key-1');
    expect(fingerprintOf(request({ correlationId: commandId }))).toBe(fingerprintOf(request()));
    expect(fingerprintOf(request({ correlationId: 'trace-1' }))).not.toBe(fingerprintOf(request()));
  });

  /** How fingerprints were taken before values were compared: of the text as sent. */
  const fingerprintAsSent = (given: CommandRequest) => {
    const { tenant, deviceId, action, parameters, priority, correlationId, expiresAt } = given;
    return requestFingerprint({
      tenant,
      deviceId,
      action,
      parameters,
      priority,
      correlationId,
      expiresAt,
    });
  };

  it('keeps the fingerprint a request in the form the API echoes always had', () => {
    const echoed = request({ expiresAt: '2026-11-20T12:05:00.000Z' });
    expect(fingerprintOf(echoed)).toBe(fingerprintAsSent(echoed));
    expect(fingerprintOf(request())).toBe(fingerprintAsSent(request()));
  });

  it('still replays a record made before values were compared, for the text it was made of', () => {
    const short = request({ expiresAt: '2026-11-24T12:05:00Z' });
    const first = decideRequest(battery, short, nowMs, rules);
    if (!first.accepted) throw new Error('accepted expected');
    // given a record whose fingerprint was taken of the text as sent
    const record: IdempotencyRecord = { fingerprint: fingerprintAsSent(short), event: first.event };
    // when the same request is sent again as it was, then it is replayed
    expect(decideKey(record, fingerprintsOf(short), 'key-1')).toMatchObject({ kind: 'replay' });
    // and another expiry under the key is refused
    const later = request({ expiresAt: '2026-11-24T12:06:00Z' });
    expect(decideKey(record, fingerprintsOf(later), 'key-1')).toMatchObject({ kind: 'refused' });
  });

  it('never makes two commands from one key, whatever requests come in whatever order', () => {
    const anyRequest = fc.record({
      key: fc.constantFrom('a', 'b', 'c'),
      limitW: fc.constantFrom(1000, 2000),
      atMs: fc.integer({ min: 0, max: 60_000 }),
    });
    fc.assert(
      fc.property(fc.array(anyRequest, { maxLength: 30 }), (requests) => {
        // given the write side's rule: the key's record, else decide and record
        const records = new Map<string, IdempotencyRecord>();
        const made: string[] = [];
        for (const { key, limitW, atMs } of requests) {
          const given = request({ idempotencyKey: key, parameters: { limitW } });
          const fingerprints = fingerprintsOf(given);
          const byKey = decideKey(records.get(key), fingerprints, key);
          if (byKey.kind !== 'new') continue;
          const decision = decideRequest(battery, given, nowMs + atMs, rules);
          if (!decision.accepted) continue;
          records.set(key, { fingerprint: fingerprints.value, event: decision.event });
          made.push(decision.event.data.commandId);
        }
        // then each key made at most one command, and distinct keys distinct commands
        expect(new Set(made).size).toBe(made.length);
        expect(made.length).toBe(new Set(requests.map((r) => r.key)).size);
        // and any two decisions for one key name the same command, even when racing
        for (const { key } of requests) {
          const a = decideRequest(battery, request({ idempotencyKey: key }), nowMs, rules);
          const b = decideRequest(battery, request({ idempotencyKey: key }), nowMs + 5, rules);
          expect(
            a.accepted && b.accepted && a.event.data.commandId === b.event.data.commandId,
          ).toBe(true);
        }
      }),
    );
  });
});
