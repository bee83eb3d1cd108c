import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LiveFeed, matches } from './live-feed.ts';
import type { LiveEvent } from './live-feed.ts';

const reading = (tenant: string, deviceId: string, siteId?: string) => ({
  kind: 'reading' as const,
  tenant,
  deviceId,
  siteId,
  data: () => JSON.stringify({ subject: deviceId }),
});

describe('LiveFeed', () => {
  it('gives a reconnecting client what came after its last event id, in order', () => {
    // given a feed that has seen three events
    const feed = new LiveFeed('e1');
    const [first, second, third] = [1, 2, 3].map((n) => feed.push(reading('acme', `d${n}`)));
    // when a client resumes from the first
    const resume = feed.since(first?.id ?? '');
    // then it gets the second and the third
    expect(resume).toEqual({ ok: true, events: [second, third] });
    expect(feed.since(third?.id ?? '')).toEqual({ ok: true, events: [] });
  });

  it('says why it cannot resume: another feed, an id it no longer holds, or no id at all', () => {
    const feed = new LiveFeed('e1', 2);
    const events = [1, 2, 3, 4].map((n) => feed.push(reading('acme', `d${n}`)));
    expect(feed.since('e0-1')).toEqual({ ok: false, reason: 'unknown-epoch' });
    // holding only 3 and 4, the client that saw 1 missed 2 for good
    expect(feed.since(events[0]?.id ?? '')).toEqual({ ok: false, reason: 'too-old' });
    expect(feed.since(events[1]?.id ?? '')).toMatchObject({ ok: true, events: events.slice(2) });
    expect(feed.since('nonsense')).toEqual({ ok: false, reason: 'malformed' });
  });

  it('tells listeners of each event until they stop listening', () => {
    const feed = new LiveFeed('e1');
    const heard: LiveEvent[] = [];
    const stop = feed.listen((event) => heard.push(event));
    feed.push(reading('acme', 'd1'));
    stop();
    feed.push(reading('acme', 'd2'));
    expect(heard.map((e) => e.deviceId)).toEqual(['d1']);
  });

  it('matches by tenant first, then kind, device and site', () => {
    const event = new LiveFeed('e1').push(reading('acme', 'd1', 'site-1'));
    const all = { tenant: 'acme', kinds: ['reading', 'alert'] as const };
    expect(matches(all, event)).toBe(true);
    expect(matches({ ...all, tenant: 'other' }, event)).toBe(false);
    expect(matches({ ...all, kinds: ['alert'] }, event)).toBe(false);
    expect(matches({ ...all, siteId: 'site-1', deviceId: 'd1' }, event)).toBe(true);
    expect(matches({ ...all, siteId: 'site-2' }, event)).toBe(false);
    expect(matches({ ...all, deviceId: 'd2' }, event)).toBe(false);
  });
});

describe('LiveFeed as a property', () => {
  it('resumes exactly as a list of the newest `capacity` events would', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 0, max: 32 }),
        (capacity, pushes, seen) => {
          const feed = new LiveFeed('e1', capacity);
          const all = Array.from({ length: pushes }, (_, n) => feed.push(reading('acme', `d${n}`)));
          const kept = all.slice(-capacity);
          const oldest = kept[0]?.seq ?? pushes + 1;
          const expected =
            seen + 1 < oldest
              ? { ok: false, reason: 'too-old' }
              : { ok: true, events: kept.filter((e) => e.seq > seen) };
          expect(feed.since(`e1-${seen}`)).toEqual(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
