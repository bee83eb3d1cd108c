import type { ReadingQuality } from '@gridstream/events';

const RANK: Record<ReadingQuality, number> = { good: 0, estimated: 1, bad: 2 };

/** The worse of two quality flags: a figure is only as good as its worst input. */
export function worstQuality(a: ReadingQuality, b: ReadingQuality): ReadingQuality {
  return RANK[a] >= RANK[b] ? a : b;
}
