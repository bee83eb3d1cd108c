import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { KafkaObservation } from '@gridstream/kafka';
import type { LiveFeed } from './live/live-feed.ts';

/** The API's Prometheus metrics: its own HTTP and ingest, and the Kafka consumers' lag and DLQ. */
export interface ApiMetrics {
  readonly registry: Registry;
  /** Readings accepted by POST /v1/readings (on Kafka). */
  readonly ingestedReadings: Counter;
  /** Batches of POST /v1/readings shed (503 overloaded) for want of an in-flight slot. */
  readonly shedIngestBatches: Counter;
  /** Batches of POST /v1/readings this process holds now (at most GS_API_INGEST_MAX_IN_FLIGHT). */
  readonly ingestBatchesInFlight: Gauge;
  /** Keyed batches answered from their Idempotency-Key's record: nothing published again. */
  readonly replayedIngestBatches: Counter;
}

/** Metric names of ingest, as Prometheus shows them (docs/api.md, Operations). */
export const IngestMetric = {
  readings: 'gridstream_ingested_readings_total',
  shedBatches: 'gridstream_ingest_shed_batches_total',
  batchesInFlight: 'gridstream_ingest_batches_in_flight',
  replayedBatches: 'gridstream_ingest_replayed_batches_total',
} as const;

/**
 * Consumer lag and the DLQ are read from Kafka when Prometheus scrapes, at most once per
 * `kafkaCacheMs`: every consumer group of the deployment is visible from here, whichever
 * process runs it, and a stopped service shows as a lag that grows. A look that fails or has not
 * answered within `kafkaTimeoutMs` (a Kafka node frozen: its requests wait 30 s) leaves the lag
 * gauges out of the scrape, the DLQ gauge NaN and `gridstream_kafka_observed` at 0, instead of
 * failing the whole scrape, whose other metrics matter most on such a day. One look at a time.
 */
export function createApiMetrics(
  observeKafka: () => Promise<KafkaObservation>,
  kafkaCacheMs = 5_000,
  /** Within Prometheus's default scrape timeout (10 s). */
  kafkaTimeoutMs = 8_000,
): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gridstream_api_' });

  let cached: { at: number; observation: Promise<KafkaObservation>; settled: boolean } | undefined;
  const observe = () => {
    if (cached === undefined || (cached.settled && Date.now() - cached.at > kafkaCacheMs)) {
      const look = {
        at: Date.now(),
        observation: observeKafka(),
        settled: false,
      };
      cached = look;
      look.observation.then(
        () => {
          look.settled = true;
        },
        () => {
          look.settled = true;
          // A failed look is not kept: the next scrape tries again.
          if (cached === look) cached = undefined;
        },
      );
    }
    return cached.observation;
  };
  /** This scrape's look at Kafka, or undefined when it failed or did not answer in time. */
  const observeInTime = async (): Promise<KafkaObservation | undefined> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        observe(),
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => {
            resolve(undefined);
          }, kafkaTimeoutMs);
        }),
      ]);
    } catch {
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  };

  new Gauge({
    name: 'gridstream_kafka_observed',
    help: `1 when this scrape's look at Kafka (consumer lag, DLQ) answered within ${String(kafkaTimeoutMs / 1000)} s, else 0: the lag gauges are left out and the DLQ gauge is NaN.`,
    registers: [registry],
    async collect() {
      this.set((await observeInTime()) === undefined ? 0 : 1);
    },
  });
  new Gauge({
    name: 'gridstream_consumer_lag_messages',
    help: 'Messages of a topic a consumer group has not committed yet (processors and projection builds).',
    labelNames: ['group', 'topic'],
    registers: [registry],
    async collect() {
      const observation = await observeInTime();
      this.reset();
      for (const { group, topic, lag: messages } of observation?.lag ?? [])
        this.set({ group, topic }, messages);
    },
  });
  new Gauge({
    name: 'gridstream_dlq_messages',
    help: 'Messages in the dead-letter topic: events no consumer could decode or process.',
    registers: [registry],
    async collect() {
      // (an unlabelled gauge cannot be left out: NaN, Prometheus's "no value")
      this.set((await observeInTime())?.dlqMessages ?? Number.NaN);
    },
  });
  const ingestedReadings = new Counter({
    name: IngestMetric.readings,
    help: 'Readings accepted by POST /v1/readings and acknowledged by Kafka.',
    registers: [registry],
  });
  const shedIngestBatches = new Counter({
    name: IngestMetric.shedBatches,
    help: 'POST /v1/readings batches answered 503 overloaded, unread, because GS_API_INGEST_MAX_IN_FLIGHT were in flight.',
    registers: [registry],
  });
  const ingestBatchesInFlight = new Gauge({
    name: IngestMetric.batchesInFlight,
    help: 'POST /v1/readings batches this API process holds now (read, parsed or publishing).',
    registers: [registry],
  });
  const replayedIngestBatches = new Counter({
    name: IngestMetric.replayedBatches,
    help: 'POST /v1/readings batches answered again from their Idempotency-Key, nothing published.',
    registers: [registry],
  });
  return {
    registry,
    ingestedReadings,
    shedIngestBatches,
    ingestBatchesInFlight,
    replayedIngestBatches,
  };
}

/**
 * Counts and times every request by method, route pattern (never the raw URL, whose ids would
 * make a series per device) and status.
 */
export function instrumentHttp(app: FastifyInstance, metrics: ApiMetrics): void {
  const requests = new Counter({
    name: 'gridstream_http_requests_total',
    help: 'HTTP requests answered, by method, route and status code.',
    labelNames: ['method', 'route', 'status_code'],
    registers: [metrics.registry],
  });
  const duration = new Histogram({
    name: 'gridstream_http_request_duration_seconds',
    help: 'Time from request to response, by method and route.',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [metrics.registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ method: request.method, route, status_code: String(reply.statusCode) });
    duration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });
  app.get('/metrics', { logLevel: 'warn' }, async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });
}

/**
 * How long events take from their own time to reach the API through Kafka, by kind (readings,
 * command updates, alerts): the live stream's freshness, and for alerts and command updates the
 * time their processors took, since those events are stamped when the processor decides. Read
 * from the live feed, which sees every such event of the deployment.
 */
export function observeDelivery(metrics: ApiMetrics, feed: LiveFeed): () => void {
  const delivery = new Histogram({
    name: 'gridstream_event_delivery_seconds',
    help: 'Time from an event (its CloudEvents time) to the API reading it from Kafka, by kind.',
    labelNames: ['kind'],
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [metrics.registry],
  });
  return feed.listen((event) => {
    if (event.timeMs !== undefined)
      delivery.observe({ kind: event.kind }, Math.max(0, Date.now() - event.timeMs) / 1000);
  });
}
