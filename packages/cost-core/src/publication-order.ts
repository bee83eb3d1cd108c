/**
 * Which of two publications for the same interval is the later one: the later `publishedAt`,
 * then the greater `id` (code-unit order) when two share an instant. A total order on what was
 * published, not on when it arrived, so a fold in any order of arrival keeps the same winner:
 * replay = live.
 */
export interface PublicationStamp {
  readonly publishedAtMs: number;
  readonly id: string;
}

export function isLaterPublication(a: PublicationStamp, b: PublicationStamp): boolean {
  if (a.publishedAtMs !== b.publishedAtMs) return a.publishedAtMs > b.publishedAtMs;
  return a.id > b.id;
}
