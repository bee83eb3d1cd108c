import { describe, expect, it } from 'vitest';
import { KnownValid } from './known-valid.ts';

describe('values known valid', () => {
  it('checks each distinct value once, and hands valid ones out, invalid ones not', () => {
    const checked: string[] = [];
    const known = new KnownValid((value) => {
      checked.push(value);
      return value.startsWith('ok');
    });
    expect(known.canonical('ok-1')).toBe('ok-1');
    expect(known.canonical('ok-1')).toBe('ok-1');
    expect(known.test('ok-1')).toBe(true);
    expect(known.canonical('bad')).toBeUndefined();
    expect(known.test('bad')).toBe(false);
    expect(known.canonical(undefined)).toBeUndefined();
    // a valid value is checked once; an invalid one each time (it is not kept)
    expect(checked).toEqual(['ok-1', 'bad', 'bad']);
  });

  it('starts again from empty when full, and still answers right', () => {
    let checks = 0;
    const known = new KnownValid(() => {
      checks++;
      return true;
    });
    for (let i = 0; i < 10_001; i++) known.test(`v${String(i)}`);
    expect(checks).toBe(10_001);
    // v0 was dropped when the 10,001st came: checked again, still valid
    expect(known.canonical('v0')).toBe('v0');
    expect(checks).toBe(10_002);
    // the newest stayed
    expect(known.test('v10000')).toBe(true);
    expect(checks).toBe(10_002);
  });
});
