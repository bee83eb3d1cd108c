// What tracing costs the hot paths, measured in one process without servers:
// node packages/cli/src/bench/tracing-overhead.ts [--rounds N]
// With tracing off: the publisher's records against the code before tracing, runEventConsumer's
// per-batch check, a sink write through traceWrite. With tracing on (the SDK exporting to a
// receiver in this process): a batch's process spans, none, one and every record sampled.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import type { Message } from 'kafkajs';
import { encodeEvent, EventType } from '@gridstream/events';
import type { EventOf, GridstreamEvent } from '@gridstream/events';
import { publishedMessage, tracedRecordsOf } from '@gridstream/kafka';
import type { PositionedEvent } from '@gridstream/kafka';
import {
  startIngestSpan,
  startProcessSpans,
  startTracing,
  traceWrite,
  tracingEnabled,
} from '@gridstream/telemetry';

const BATCH = 1_000;
const { values } = parseArgs({ options: { rounds: { type: 'string', default: '15' } } });
const ROUNDS = Number(values.rounds);

const readings: GridstreamEvent[] = Array.from({ length: BATCH }, (_, index) => {
  const event: EventOf<typeof EventType.readingReported> = {
    id: `0193a0c0-0000-7000-8000-${String(index).padStart(12, '0')}`,
    type: EventType.readingReported,
    source: 'bench',
    subject: `meter-${index % 100}`,
    time: '2026-11-20T10:00:00Z',
    tenant: 'acme',
    data: {
      deviceId: `meter-${index % 100}`,
      quality: 'good',
      powerW: 250 + index,
      importWh: 1000 + index,
    },
  };
  return event;
});

/** The publisher's record before tracing (packages/kafka/src/publisher.ts at 10f0e59^). */
function messageBeforeTracing(event: GridstreamEvent): Message {
  const record = encodeEvent(event);
  return { key: record.key, value: record.value, headers: { ...record.headers } };
}

/** Median over rounds of the ns one call of `work` takes, `calls` calls a round. */
async function nsPerCall(calls: number, work: () => unknown): Promise<number> {
  const perRound: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let call = 0; call < calls; call++) await work();
    perRound.push(Number(process.hrtime.bigint() - start) / calls);
  }
  perRound.sort((a, b) => a - b);
  return perRound[Math.floor(perRound.length / 2)] ?? Number.NaN;
}

/** Medians of `a` and `b`, measured in alternating rounds so the machine's load falls on both alike. */
async function alternating(
  calls: number,
  a: () => unknown,
  b: () => unknown,
): Promise<[number, number]> {
  const perRound: [number[], number[]] = [[], []];
  for (let round = 0; round < ROUNDS; round++)
    for (const [index, work] of [a, b].entries()) {
      const start = process.hrtime.bigint();
      for (let call = 0; call < calls; call++) await work();
      perRound[index]?.push(Number(process.hrtime.bigint() - start) / calls);
    }
  const median = (values: number[]) =>
    values.sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? Number.NaN;
  return [median(perRound[0]), median(perRound[1])];
}

const fmt = (ns: number) => (ns >= 10_000 ? `${(ns / 1000).toFixed(1)} µs` : `${ns.toFixed(0)} ns`);

const positioned: PositionedEvent[] = readings.map((event, index) => ({
  event,
  topic: 'readings',
  partition: 0,
  offset: String(index),
}));
const handle = async (_events: readonly PositionedEvent[]) => undefined;
const flush = async () => true;

/** runEventConsumer's added work per batch, as written there, tracing off or on. */
async function consumerBatch(
  messages: readonly { offset: string; headers?: Record<string, string> }[],
): Promise<void> {
  const spans = tracingEnabled()
    ? startProcessSpans(
        { groupId: 'bench', topic: 'readings', partition: 0 },
        tracedRecordsOf(messages as Parameters<typeof tracedRecordsOf>[0], positioned),
      )
    : undefined;
  const run =
    spans === undefined
      ? handle
      : (events: readonly PositionedEvent[]) => spans.run(() => handle(events));
  await run(positioned);
  spans?.end();
}

/** The same work before tracing: the handler awaited in runEventConsumer's batch function. */
async function consumerBatchBefore(): Promise<void> {
  await handle(positioned);
}

const plain = positioned.map(({ offset }) => ({ offset }));

async function measureOff(): Promise<void> {
  console.log(`tracing off (${ROUNDS} rounds, each alternating before/now; medians)`);
  const [before, now] = await alternating(
    20,
    () => readings.map(messageBeforeTracing),
    () => readings.map((event) => publishedMessage(event)),
  );
  console.log(`  publisher, ${BATCH} records: before tracing ${fmt(before)}, now ${fmt(now)}`);
  const [batchBefore, batchNow] = await alternating(20_000, consumerBatchBefore, () =>
    consumerBatch(plain),
  );
  console.log(`  consumer, per batch: before tracing ${fmt(batchBefore)}, now ${fmt(batchNow)}`);
  const [flushBefore, flushNow] = await alternating(20_000, flush, () =>
    traceWrite('ILP flush', {}, flush),
  );
  console.log(
    `  sink write (a flush that does nothing): called ${fmt(flushBefore)}, through traceWrite ${fmt(flushNow)}`,
  );
  const ingest = await nsPerCall(20_000, () => startIngestSpan({ traceparent: undefined }));
  console.log(`  ingest span (none made): ${fmt(ingest)}`);
}

async function measureOn(): Promise<void> {
  const receiver = createServer((request, response) => {
    request.resume();
    request.on('end', () => response.writeHead(200).end('{}'));
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as AddressInfo;
  const tracing = await startTracing('bench', {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
  });
  const traceparent = (index: number) =>
    `00-${index.toString(16).padStart(32, '0')}-${'1'.repeat(16)}-01`;
  const unsampled = positioned.map(({ offset }) => ({
    offset,
    headers: { ce_traceparent: `00-${'2'.repeat(32)}-${'3'.repeat(16)}-00` },
  }));
  const oneSampled = positioned.map(({ offset }, index) =>
    index === 0 ? { offset, headers: { ce_traceparent: traceparent(1) } } : { offset },
  );
  const allSampled = positioned.map(({ offset }, index) => ({
    offset,
    headers: { ce_traceparent: traceparent(index + 1) },
  }));
  console.log(`tracing on (${ROUNDS} rounds, median), per batch of ${BATCH} records`);
  console.log(`  no trace headers: ${fmt(await nsPerCall(200, () => consumerBatch(plain)))}`);
  console.log(
    `  every record unsampled: ${fmt(await nsPerCall(200, () => consumerBatch(unsampled)))}`,
  );
  console.log(
    `  one record sampled: ${fmt(await nsPerCall(200, () => consumerBatch(oneSampled)))}`,
  );
  console.log(
    `  every record sampled: ${fmt(await nsPerCall(5, () => consumerBatch(allSampled)))}`,
  );
  const ingest = await nsPerCall(2_000, () => {
    startIngestSpan({ traceparent: traceparent(7) })?.end(202);
  });
  console.log(`  ingest span with its traceparent: ${fmt(ingest)}`);
  await tracing.shutdown();
  receiver.close();
}

await measureOff();
await measureOn();
