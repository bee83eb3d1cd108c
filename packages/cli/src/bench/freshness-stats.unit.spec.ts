import { describe, expect, it } from 'vitest';
import { apiLines, readingsDueBy, summariseFreshness } from './freshness-stats.ts';

describe('summariseFreshness', () => {
  it('gives p50, p99 and max of unsorted samples', () => {
    // given 100 samples 1..100 ms in reverse order
    const samples = Array.from({ length: 100 }, (_, i) => 100 - i);
    // when
    const summary = summariseFreshness(samples);
    // then
    expect(summary).toEqual({ samples: 100, p50Ms: 50, p99Ms: 99, maxMs: 100 });
  });

  it('says NaN, not 0, when nothing was sampled', () => {
    const summary = summariseFreshness([]);
    expect(summary.samples).toBe(0);
    expect(summary.p99Ms).toBeNaN();
    expect(summary.maxMs).toBeNaN();
  });
});

describe('readingsDueBy', () => {
  it('splits the offered rate over the clients', () => {
    // given 10,000 readings/s over 8 clients, when 2 s have passed, then 2,500 each
    expect(readingsDueBy(2000, 10_000, 8)).toBe(2500);
  });

  it('owes nothing before the start or without clients', () => {
    expect(readingsDueBy(0, 10_000, 8)).toBe(0);
    expect(readingsDueBy(1000, 10_000, 0)).toBe(0);
  });
});

describe('apiLines', () => {
  it("reads the API's event loop delay, GC, CPU and readings' delivery from its metrics", () => {
    // given the metrics as prom-client writes them, with 100 readings, 60 under 0.1 s
    const text = [
      '# HELP gridstream_api_nodejs_eventloop_lag_p50_seconds The 50th percentile.',
      'gridstream_api_nodejs_eventloop_lag_p50_seconds 0.0105',
      'gridstream_api_nodejs_eventloop_lag_p99_seconds 0.0401',
      'gridstream_api_nodejs_eventloop_lag_max_seconds 0.296',
      'gridstream_api_nodejs_gc_duration_seconds_sum{kind="minor"} 3.61',
      'gridstream_api_nodejs_gc_duration_seconds_sum{kind="major"} 0.32',
      'gridstream_api_process_cpu_seconds_total 58.7',
      'gridstream_event_delivery_seconds_bucket{le="0.05",kind="reading"} 10',
      'gridstream_event_delivery_seconds_bucket{le="0.1",kind="reading"} 60',
      'gridstream_event_delivery_seconds_bucket{le="0.5",kind="reading"} 98',
      'gridstream_event_delivery_seconds_bucket{le="1",kind="reading"} 100',
      'gridstream_event_delivery_seconds_bucket{le="+Inf",kind="reading"} 100',
      'gridstream_event_delivery_seconds_bucket{le="+Inf",kind="alert"} 7',
    ].join('\n');
    // when
    const lines = apiLines(text);
    // then
    expect(lines).toEqual([
      'API event loop delay p50 11 ms, p99 40 ms, max 296 ms; GC minor 3.6 s, major 0.3 s; CPU 58.7 s',
      "readings' time to the API's live consumer: p50 under 0.1 s, p99 under 1 s (100 readings)",
    ]);
  });

  it('says so when the API did not answer', () => {
    expect(apiLines('')).toEqual(['API metrics: not answered']);
  });
});
