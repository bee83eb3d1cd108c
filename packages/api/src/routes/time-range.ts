import { GridstreamError } from '@gridstream/errors';

export interface TimeRange {
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * The range a query reads: `to` defaults to now and `from` to `defaultMs` before it; it must be
 * non-empty and at most `maxMs` long, so no request reads an unbounded amount of history.
 */
export function boundedRange(
  query: { from?: string | undefined; to?: string | undefined },
  nowMs: number,
  limits: { defaultMs: number; maxMs: number; what?: string },
): TimeRange {
  const toMs = query.to === undefined ? nowMs : Date.parse(query.to);
  const fromMs = query.from === undefined ? toMs - limits.defaultMs : Date.parse(query.from);
  if (fromMs >= toMs || toMs - fromMs > limits.maxMs) {
    const days = Math.round((limits.maxMs / 86_400_000) * 10) / 10;
    throw new GridstreamError(
      'VALIDATION',
      `the range must be non-empty and span at most ${days} days${limits.what === undefined ? '' : ` ${limits.what}`}`,
      {
        issues: [
          {
            in: 'querystring',
            path: 'from',
            message: `before to, and at most ${days} days before it`,
          },
        ],
      },
    );
  }
  return { fromMs, toMs };
}

/** A QuestDB table that no writer has made yet holds nothing: an empty answer, not an error. */
export async function emptyIfNoTable<T>(query: Promise<T[]>): Promise<T[]> {
  try {
    return await query;
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('table does not exist')) return [];
    throw error;
  }
}

/** Whether the runtime knows an IANA time zone by this name. */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
