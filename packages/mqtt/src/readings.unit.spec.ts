import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { v5 as uuidv5 } from 'uuid';
import { DEFAULT_TIME_PLAUSIBILITY } from '@gridstream/events';
import { z } from 'zod';
import { readingEvents, readingUuid, uuidV5 } from './readings.ts';

const NAMESPACE = '4c0d7f0e-5b1e-4d0a-9a43-7a3f8f6b2c11';
const route = { format: 'gridstream', tenant: 'acme', deviceId: 'm-1' } as const;
const received = Date.parse('2026-12-05T12:00:00Z');
const payload = new TextEncoder().encode('{"importWh": 1}');

describe('the readings of an MQTT message', () => {
  it('names them with RFC 9562 UUID v5, as the uuid package computes them', () => {
    fc.assert(
      fc.property(fc.string(), (name) => {
        expect(uuidV5(name)).toBe(uuidv5(name, NAMESPACE));
      }),
    );
  });

  it('gives each reading of a device in a message an id of its own, a UUID', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 20, maxLength: 20 }),
        fc.uniqueArray(fc.nat(), { maxLength: 50 }),
        (bytes, ordinals) => {
          const ids = ordinals.map((k) => readingUuid(Buffer.from(bytes), k));
          expect(new Set(ids).size).toBe(ordinals.length);
          for (const id of ids) expect(z.uuid().safeParse(id).success).toBe(true);
        },
      ),
    );
  });

  it('gives a message delivered again the same ids, and another message other ids', () => {
    const candidates = [
      { deviceId: 'm-1', time: '2026-12-05T11:59:00Z', importWh: 1 },
      { deviceId: 'm-1', time: '2026-12-05T11:59:10Z', importWh: 2 },
    ];
    const ids = (bytes: Uint8Array) => {
      const made = readingEvents(
        route,
        'gridstream/acme/m-1/readings',
        bytes,
        candidates,
        received,
        DEFAULT_TIME_PLAUSIBILITY,
      );
      if (!made.ok) throw new Error(made.message);
      return made.events.map((e) => e.id);
    };
    const first = ids(payload);
    expect(new Set(first).size).toBe(2);
    expect(ids(payload)).toEqual(first);
    expect(ids(new TextEncoder().encode('{"importWh": 2}'))).not.toContain(first[0]);
  });

  it('refuses the whole message for one reading out of bounds or too far ahead, naming it', () => {
    const check = (candidates: Parameters<typeof readingEvents>[3]) =>
      readingEvents(route, 't', payload, candidates, received, DEFAULT_TIME_PLAUSIBILITY);
    expect(
      check([
        { deviceId: 'm-1', time: '2026-12-05T11:59:00Z', importWh: 1 },
        { deviceId: 'm-1', time: '2026-12-05T11:59:10Z', importWh: -1 },
      ]),
    ).toMatchObject({
      ok: false,
      reason: 'invalid-reading',
      message: expect.stringMatching(/^readings\.1\.importWh: /) as unknown,
    });
    expect(check([{ deviceId: 'm-1', time: '2026-12-05T13:00:00Z', importWh: 1 }])).toMatchObject({
      ok: false,
      reason: 'implausible-time',
    });
    expect(check([{ deviceId: 'm-1', time: 'yesterday', importWh: 1 }])).toMatchObject({
      ok: false,
      reason: 'invalid-reading',
    });
  });
});
