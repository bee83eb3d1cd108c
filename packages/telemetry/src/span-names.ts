/**
 * The spans gridstream makes, named as OpenTelemetry's semantic conventions name them
 * (`{method} {route}` for HTTP, `{operation} {destination}` for messaging, `{operation} {target}`
 * for databases), so that a trace reads the same in any backend.
 */
export const SpanName = {
  /** The API's POST /v1/readings: parse, check and publish a body (SERVER). */
  ingestReadings: 'POST /v1/readings',
  /** One traced event handled by a consumer group: `process <topic>` (CONSUMER). */
  process: (topic: string) => `process ${topic}`,
  /** One ILP-over-HTTP flush of a QuestDB sender: the rows of a batch committed (CLIENT). */
  questDbFlush: 'ILP flush',
  /** A projection's batch applied to its collection: documents read, folded, bulk-written (CLIENT). */
  mongoBulkWrite: (collection: string) => `bulkWrite ${collection}`,
} as const;

/** The instrumentation scope of every gridstream span. */
export const TRACER_NAME = '@gridstream/telemetry';
