import { percentile } from './api.ts';

/** p50, p99 and max of the times from a reading's 202 to its being visible, in ms. */
export interface FreshnessSummary {
  readonly samples: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

export function summariseFreshness(visibleAfterMs: readonly number[]): FreshnessSummary {
  const sorted = [...visibleAfterMs].sort((a, b) => a - b);
  return {
    samples: sorted.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.at(-1) ?? Number.NaN,
  };
}

/**
 * Readings a paced client should have posted by `elapsedMs` so that together the clients
 * offer `ratePerSecond`: a schedule, not a sleep per batch, so a slow answer is caught up
 * instead of lowering the offered rate for the rest of the run.
 */
export function readingsDueBy(elapsedMs: number, ratePerSecond: number, clients: number): number {
  if (elapsedMs <= 0 || clients <= 0) return 0;
  return Math.floor((elapsedMs * ratePerSecond) / 1000 / clients);
}

/** The samples of one metric in Prometheus's text format: labels (as written) and value. */
function samples(text: string, name: string): { labels: string; value: number }[] {
  const found: { labels: string; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    found.push({ labels: match[2] ?? '', value: Number(match[3]) });
  }
  return found;
}

/**
 * What the API's own metrics say of the run (scraped once as the load ends, so since its start):
 * its event loop's delay, its garbage collection, and how long readings took from their time to
 * its live consumer, which is where the device view's newest reading comes from.
 */
export function apiLines(text: string): string[] {
  if (text === '') return ['API metrics: not answered'];
  const one = (name: string) => samples(text, name)[0]?.value;
  const ms = (seconds: number | undefined) =>
    seconds === undefined ? 'n/a' : `${(seconds * 1000).toFixed(0)} ms`;
  const gc = samples(text, 'gridstream_api_nodejs_gc_duration_seconds_sum')
    .map(
      ({ labels, value }) => `${/kind="([^"]+)"/.exec(labels)?.[1] ?? '?'} ${value.toFixed(1)} s`,
    )
    .join(', ');
  // The delivery histogram's cumulative buckets: the smallest bound under which p50 and p99 fall.
  const buckets = samples(text, 'gridstream_event_delivery_seconds_bucket')
    .filter(({ labels }) => labels.includes('kind="reading"'))
    .map(({ labels, value }) => ({ le: /le="([^"]+)"/.exec(labels)?.[1] ?? '', count: value }));
  const total = buckets.find((b) => b.le === '+Inf')?.count ?? 0;
  const under = (q: number) => buckets.find((b) => b.count >= q * total)?.le ?? 'n/a';
  return [
    `API event loop delay p50 ${ms(one('gridstream_api_nodejs_eventloop_lag_p50_seconds'))}, p99 ${ms(one('gridstream_api_nodejs_eventloop_lag_p99_seconds'))}, max ${ms(one('gridstream_api_nodejs_eventloop_lag_max_seconds'))}; GC ${gc === '' ? 'n/a' : gc}; CPU ${one('gridstream_api_process_cpu_seconds_total')?.toFixed(1) ?? 'n/a'} s`,
    `readings' time to the API's live consumer: p50 under ${under(0.5)} s, p99 under ${under(0.99)} s (${total.toLocaleString('en-US')} readings)`,
  ];
}
