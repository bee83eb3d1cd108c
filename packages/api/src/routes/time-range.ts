import { z } from 'zod';
import { DEFAULT_TIME_PLAUSIBILITY, Timestamp } from '@gridstream/events';
import { GridstreamError } from '@gridstream/errors';

export interface TimeRange {
  readonly fromMs: number;
  readonly toMs: number;
}

/** Nothing is recorded before this instant (the earliest event time accepted). */
const EARLIEST_MS = DEFAULT_TIME_PLAUSIBILITY.earliestMs;

/**
 * The range a query reads: `to` defaults to now and `from` to `defaultMs` before it; it must be
 * non-empty and at most `maxMs` long, so no request reads an unbounded amount of history, and
 * start no earlier than 2000 (before time zones were standard, a zone's offset is no whole
 * quarter hour, and nothing is recorded then).
 */
export function boundedRange(
  query: { from?: string | undefined; to?: string | undefined },
  nowMs: number,
  limits: { defaultMs: number; maxMs: number; what?: string },
): TimeRange {
  const toMs = query.to === undefined ? nowMs : Date.parse(query.to);
  const fromMs = query.from === undefined ? toMs - limits.defaultMs : Date.parse(query.from);
  if (fromMs < EARLIEST_MS)
    throw new GridstreamError('VALIDATION', 'the range must start in 2000 or later', {
      issues: [{ in: 'querystring', path: 'from', message: 'from 2000-01-01T00:00:00Z on' }],
    });
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

/** The zones the runtime lists, for the document: a client picks one of these. */
const LISTED_TIME_ZONES = [...new Set(['UTC', ...Intl.supportedValuesOf('timeZone')])].sort();

/**
 * An IANA time zone. The document lists the zones the runtime names as canonical; their aliases
 * the runtime knows (Asia/Kolkata for Asia/Calcutta) are taken as well, as before.
 */
export const TimeZone = z
  .string()
  .max(64)
  .refine(isTimeZone, { message: 'an IANA time zone, e.g. Europe/Berlin' })
  .meta({ enum: LISTED_TIME_ZONES });

/** `from` and `to` of a query over at most `maxDays`, described as boundedRange reads them. */
export function rangeQuery(maxDays: number, defaultSpan: string) {
  return {
    from: Timestamp.optional().describe(
      `start (inclusive); default ${defaultSpan} before \`to\`; from 2000 on, before \`to\` and at most ${maxDays} days before it (else 400)`,
    ),
    to: Timestamp.optional().describe('end (exclusive); default now'),
  };
}
