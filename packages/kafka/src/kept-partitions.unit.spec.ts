import { describe, expect, it } from 'vitest';
import { keptPartitions } from './consumer.ts';
import type { Assignment } from './consumer.ts';

const assignment = (entries: Record<string, number[]>): Assignment =>
  new Map(Object.entries(entries).map(([topic, partitions]) => [topic, new Set(partitions)]));

const plain = (kept: Assignment) =>
  Object.fromEntries([...kept].map(([topic, partitions]) => [topic, [...partitions].sort()]));

describe('keptPartitions', () => {
  const before = assignment({ readings: [0, 1, 2], devices: [0, 1, 2] });
  const after = assignment({ readings: [1, 2, 3], devices: [1, 2, 3] });

  it('keeps what the member held in both of two consecutive generations', () => {
    expect(plain(keptPartitions(7, before, 8, after))).toEqual({
      readings: [1, 2],
      devices: [1, 2],
    });
  });

  it('keeps nothing after a generation the member missed: someone else may have held them', () => {
    expect(keptPartitions(7, before, 9, after).size).toBe(0);
  });

  it('keeps nothing on a first join', () => {
    expect(keptPartitions(undefined, new Map(), 1, after).size).toBe(0);
  });

  it('leaves out a topic with nothing held in both', () => {
    const moved = assignment({ readings: [3, 4], devices: [1] });
    expect(plain(keptPartitions(3, before, 4, moved))).toEqual({ devices: [1] });
  });
});
