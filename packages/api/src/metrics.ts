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
 * process runs it, and a stopped service shows as a lag that grows.
 */
export function createApiMetrics(
  observeKafka: () => Promise<KafkaObservation>,
  kafkaCacheMs = 5_000,
): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'gridstream_api_' });

  let cached: { at: number; observation: Promise<KafkaObservation> } | undefined;
  const observe = () => {
    if (cached === undefined || Date.now() - cached.at > kafkaCacheMs) {
      const observation = observeKafka();
      cached = { at: Date.now(), observation };
      // A failed look is not kept: the next scrape tries again.
      observation.catch(() => {
        cached = undefined;
      });
    }
    return cached.observation;
  };

  new Gauge({
    name: 'gridstream_consumer_lag_messages',
    help: 'Messages of a topic a consumer group has not committed yet (processors and projection builds).',
    labelNames: ['group', 'topic'],
    registers: [registry],
    async collect() {
      const { lag } = await observe();
      this.reset();
      for (const { group, topic, lag: messages } of lag) this.set({ group, topic }, messages);
    },
  });
  new Gauge({
    name: 'gridstream_dlq_messages',
    help: 'Messages in the dead-letter topic: events no consumer could decode or process.',
    registers: [registry],
    async collect() {
      this.set((await observe()).dlqMessages);
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
