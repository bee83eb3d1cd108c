import { describe, expect, it } from 'vitest';
import type { CommandDispatchedV1 } from '@gridstream/events';
import { applyCommand, planReplies } from './commands.ts';
import { createFleet, nextReading, seededRandom } from './fleet.ts';

const noon = new Date('2026-06-01T12:00:00Z');
const dispatched = (
  deviceId: string,
  action: CommandDispatchedV1['action'],
  parameters: CommandDispatchedV1['parameters'] = {},
): CommandDispatchedV1 => ({
  commandId: 'c1',
  deviceId,
  attempt: 1,
  action,
  parameters,
  priority: 'normal',
  ackDeadline: '2026-06-01T12:00:10Z',
  expiresAt: '2026-06-01T12:05:00Z',
});

function device(kind: string) {
  const found = createFleet(1, seededRandom(1)).find((d) => d.registration.kind === kind);
  if (found === undefined) throw new Error(kind);
  return found;
}

describe('a simulated device answering commands', () => {
  it('reports 0 W once a plug is switched off, and draws again once switched on', () => {
    // given a plug, when it is switched off
    const plug = device('smart_plug');
    const random = seededRandom(2);
    applyCommand(plug, dispatched(plug.registration.deviceId, 'switch_off'));
    // then every reading is 0 W and its counter stands still
    const off = Array.from({ length: 20 }, (_, i) =>
      nextReading(plug, new Date(noon.getTime() + i * 1000), 1000, random),
    );
    expect(off.every((r) => r.powerW === 0)).toBe(true);
    expect(new Set(off.map((r) => r.importWh)).size).toBe(1);
    // and switched on again it draws power now and then
    applyCommand(plug, dispatched(plug.registration.deviceId, 'switch_on'));
    const on = Array.from({ length: 20 }, (_, i) =>
      nextReading(plug, new Date(noon.getTime() + (20 + i) * 1000), 1000, random),
    );
    expect(on.some((r) => (r.powerW ?? 0) > 0)).toBe(true);
  });

  it('keeps a battery and a charger within a power limit', () => {
    const random = seededRandom(3);
    for (const kind of ['battery', 'ev_charger', 'solar_inverter']) {
      const limited = device(kind);
      applyCommand(
        limited,
        dispatched(limited.registration.deviceId, 'set_power_limit', { limitW: 500 }),
      );
      for (let i = 0; i < 50; i++) {
        const reading = nextReading(limited, new Date(noon.getTime() + i * 1000), 1000, random);
        expect(Math.abs(reading.powerW ?? 0), kind).toBeLessThanOrEqual(500);
      }
    }
  });

  it('acknowledges, then reports a result, sometimes a failure, sometimes nothing at all', () => {
    const random = seededRandom(4);
    const plans = Array.from({ length: 400 }, () =>
      planReplies(dispatched('plug', 'switch_off'), noon.getTime(), random),
    );
    const silent = plans.filter((p) => p.length === 0).length;
    const failed = plans.filter((p) => p[1]?.outcome === 'failed').length;
    expect(silent).toBeGreaterThan(0);
    expect(failed).toBeGreaterThan(0);
    for (const plan of plans.filter((p) => p.length > 0)) {
      expect(plan[0]?.outcome).toBe('acknowledged');
      expect(plan[1]?.afterMs).toBeGreaterThan(plan[0]?.afterMs ?? 0);
    }
    // and a dispatch past its expiry is never answered
    expect(
      planReplies(dispatched('plug', 'switch_off'), Date.parse('2026-06-01T13:00:00Z'), random),
    ).toEqual([]);
  });
});
