import { describe, expect, it } from 'vitest';

interface ArchivedEvent {
  id: string;
  type: string;
  time: string;
  source: string;
  subject: string;
  data: Record<string, unknown>;
}
interface HistoryLine {
  eventId: string;
  type: string;
  time: string;
  what: string;
  by: string;
  automatic: boolean;
}
type Format = (time: string) => string;

// history.js is the page's own JavaScript, checked by the dashboard's tsconfig with the DOM's
// types; this project does not check .js files, so it is loaded here by a path TypeScript does
// not follow, with its types written out above.
const HISTORY_SCRIPT = './history.js';
const { describeHistory, newestFirst } = (await import(HISTORY_SCRIPT)) as {
  describeHistory: (events: ArchivedEvent[], formatTime: Format) => HistoryLine[];
  newestFirst: (lines: HistoryLine[], events: ArchivedEvent[], formatTime: Format) => HistoryLine[];
};

const asIs: Format = (time) => time;
let n = 0;
const event = (type: string, time: string, data: Record<string, unknown>): ArchivedEvent => ({
  id: `e${++n}`,
  // a type without a version is v1
  type: /\.v\d+$/.test(type) ? `gridstream.${type}` : `gridstream.${type}.v1`,
  time,
  source: 'test',
  subject: 'plug-1',
  data: { deviceId: 'plug-1', ...data },
});
const quarterHour = (time: string) =>
  event('energy.quarter-hour-computed', time, { bucketStart: time, importWh: 1, exportWh: 0 });

describe("a device's history in words", () => {
  it('says what a registry change did, with the old value of what changed, and who did it', () => {
    // given a registration, a rename, a decommission without reason and a restore
    const events = [
      event('device.registered.v2', '2026-01-01T00:00:00Z', {
        siteId: 'home',
        kind: 'smart_plug',
        role: 'consumer',
        name: 'Kettle',
        nameplate: { ratedPowerW: 2000 },
        actor: 'key:abc',
      }),
      event('device.updated', '2026-01-02T00:00:00Z', {
        name: 'Kettle plug',
        ratedPowerW: 2200,
        actor: 'operator:ann',
      }),
      event('device.decommissioned', '2026-01-03T00:00:00Z', { actor: 'key:abc' }),
      event('device.restored', '2026-01-04T00:00:00Z', { reason: 'back', actor: 'key:abc' }),
    ];
    // when they are described
    const lines = describeHistory(events, asIs);
    // then each line says it in words, naming the actor
    expect(lines.map((line) => [line.what, line.by])).toEqual([
      ['registered on site home as smart_plug (consumer), named "Kettle", rated 2000 W', 'key:abc'],
      ['updated: renamed "Kettle" → "Kettle plug", rated power 2000 → 2200 W', 'operator:ann'],
      ['decommissioned (no reason given)', 'key:abc'],
      ['restored to service: back', 'key:abc'],
    ]);
  });

  it("names a command's action on every event of it, and who asked for it", () => {
    // given a command requested by a key, then the command processor's events about it
    const ref = { commandId: 'c0ffee00-1234', correlationId: 'x' };
    const events = [
      event('command.requested', '2026-01-01T00:00:00Z', {
        ...ref,
        action: 'set_power_limit',
        parameters: { limitW: 500 },
        requestedBy: 'key:abc',
      }),
      event('command.dispatched', '2026-01-01T00:00:01Z', { ...ref, attempt: 1 }),
      event('command.failed', '2026-01-01T00:00:02Z', { ...ref, attempt: 1, reason: 'busy' }),
      event('command.succeeded', '2026-01-01T00:00:03Z', { commandId: 'unknown-1', attempt: 2 }),
    ];
    // when they are described
    const lines = describeHistory(events, asIs);
    // then the later events name the action of the request, or the command's id when unseen
    expect(lines.map((line) => [line.what, line.by, line.automatic])).toEqual([
      ['command set_power_limit requested (limitW=500)', 'key:abc', false],
      ['command set_power_limit sent to the device (attempt 1)', 'test', true],
      ['command set_power_limit failed: busy', 'test', true],
      ['command unknown- succeeded (attempt 2)', 'test', true],
    ]);
  });

  it('lists newest first, each run of quarter-hour energy one line counting its quarter hours', () => {
    // given energy of three quarter hours (one corrected), a rename, then energy of one more
    const events = [
      quarterHour('2026-01-01T10:00:00.000Z'),
      quarterHour('2026-01-01T10:15:00.000Z'),
      quarterHour('2026-01-01T10:00:00.000Z'),
      quarterHour('2026-01-01T10:30:00.000Z'),
      event('device.updated', '2026-01-01T11:00:00.000Z', { name: 'B', actor: 'key:abc' }),
      quarterHour('2026-01-01T11:00:00.000Z'),
    ];
    // when they are put newest first
    const lines = newestFirst(describeHistory(events, asIs), events, asIs);
    // then the runs are folded, and the order is reversed
    expect(lines.map((line) => line.what)).toEqual([
      'energy of 1 quarter hour computed',
      'updated: named "B"',
      'energy of 3 quarter hours computed, since 2026-01-01T10:00:00.000Z',
    ]);
    expect(lines[2]?.time).toBe('2026-01-01T10:30:00.000Z');
  });
});
