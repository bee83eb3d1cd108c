/**
 * The energy processor's CPU path without Kafka: bench energy's readings encoded as Kafka
 * records, then decoded, placed in timelines, totalled and written into an ILP buffer as the
 * processor's batches do (decodeEvent, storedReadingOf, DeviceTimelines.place, EnergyBatch,
 * bufferReadingEnergyRows, bufferDeviceQuarterRow), batch after batch in one thread. Prints µs a
 * reading; with HEAP_PROFILE=file, a sampling heap profile that counts the garbage too.
 *
 * The rows are never sent (the buffer is reset after each batch) and QuestDB is never queried
 * (every device is new, and the timelines' reader answers nothing), but the ILP sender is
 * made against the configured QuestDB, whose protocol version it asks for: the stack must run.
 *
 *   node --max-semi-space-size=8 --heap-growing-percent=200 packages/cli/src/bench/energy-path.ts [--readings N]
 *     [--devices D (833: one partition's share of bench energy's 5,000)] [--batch B] [--rounds R]
 */
import { parseArgs } from 'node:util';
import { loadConfig, questDbHttp } from '@gridstream/config';
import { DEFAULT_ENERGY_SETTINGS } from '@gridstream/energy-core';
import { encodeEvent, decodeEvent } from '@gridstream/events';
import { readRecordText } from '@gridstream/kafka';
import type { PositionedEvent } from '@gridstream/kafka';
import { bufferReadingEnergyRows, createIlpSender, storedReadingOf } from '@gridstream/questdb';
import type { QuestDbReader } from '@gridstream/questdb';
import {
  bufferDeviceQuarterRow,
  deviceWindows,
  DeviceTimelines,
  EnergyBatch,
} from '@gridstream/processor-energy/internals';
import { benchReading } from './energy.ts';

const { values } = parseArgs({
  options: {
    readings: { type: 'string', default: '600000' },
    devices: { type: 'string', default: '833' },
    batch: { type: 'string', default: '13000' },
    rounds: { type: 'string', default: '5' },
  },
});
const READINGS = Number(values.readings);
const DEVICES = Number(values.devices);
const BATCH = Number(values.batch);
const START_MS = Date.UTC(2026, 0, 1);
const config = loadConfig(process.env);

// Records as the patched kafkajs hands them: key and value Buffers, headers as strings.
const records = Array.from({ length: READINGS }, (_, n) => {
  const encoded = encodeEvent(benchReading(n, DEVICES));
  return {
    key: Buffer.from(encoded.key),
    value: Buffer.from(encoded.value),
    headers: encoded.headers,
    offset: String(n),
    timestamp: String(START_MS + Math.floor(n / DEVICES) * 10_000 + 1000),
  };
});

const reader: QuestDbReader = {
  query: (sql: string) =>
    Promise.resolve(
      sql.includes('wal_tables()')
        ? [{ name: 'x', suspended: false, writerTxn: '1', sequencerTxn: '1' }]
        : [],
    ),
  close: () => Promise.resolve(),
} as unknown as QuestDbReader;

async function round(): Promise<number> {
  const timelines = new DeviceTimelines({
    reader,
    readingsTable: 'readings',
    deviceEnergyTable: 'device_energy_15m',
    readingsTtlDays: 0,
    settingsOf: () => DEFAULT_ENERGY_SETTINGS,
    limits: {
      maxReadings: config.GS_ENERGY_TIMELINE_READINGS,
      maxAgeMs: config.GS_ENERGY_TIMELINE_HORIZON_MS,
    },
    maxDevices: config.GS_ENERGY_MAX_DEVICES,
  });
  const sender = await createIlpSender(questDbHttp(config));
  const started = process.hrtime.bigint();
  for (let from = 0; from < READINGS; from += BATCH) {
    const events: PositionedEvent[] = [];
    for (const message of records.slice(from, from + BATCH)) {
      const decoded = decodeEvent(message, readRecordText, {
        earliestMs: 0,
        maxAheadMs: Number.MAX_SAFE_INTEGER,
      });
      if (!decoded.ok) throw new Error(decoded.reason);
      events.push({
        event: decoded.event,
        topic: 'readings',
        partition: 0,
        offset: message.offset,
      });
    }
    const readings = events.flatMap((e) => storedReadingOf(e) ?? []);
    await timelines.ensureLoaded(deviceWindows(readings), true);
    const batch = new EnergyBatch();
    const bufferRows = () => {
      bufferReadingEnergyRows(sender, 'readings', batch.takeRows());
    };
    await timelines.place(readings, batch, () => {
      bufferRows();
      return Promise.resolve();
    });
    bufferRows();
    for (const { tenant, total } of batch.finish())
      bufferDeviceQuarterRow(sender, 'device_energy_15m', tenant, undefined, total);
    sender.reset();
  }
  const us = Number(process.hrtime.bigint() - started) / 1000;
  await sender.close();
  return us / READINGS;
}

const heapProfile = process.env['HEAP_PROFILE'];
const { Session } = await import('node:inspector/promises');
const session = new Session();
if (heapProfile !== undefined) {
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 8192,
    includeObjectsCollectedByMinorGC: true,
    includeObjectsCollectedByMajorGC: true,
  } as never);
}
const figures: number[] = [];
for (let r = 0; r < Number(values.rounds); r++) {
  const us = await round();
  figures.push(us);
  process.stdout.write(`round ${String(r + 1)}: ${us.toFixed(2)} µs a reading\n`);
}
if (heapProfile !== undefined) {
  const { profile } = (await session.post('HeapProfiler.stopSampling')) as { profile: unknown };
  const { writeFile } = await import('node:fs/promises');
  await writeFile(heapProfile, JSON.stringify(profile));
}
const sorted = [...figures].sort((a, b) => a - b);
process.stdout.write(
  `median ${(sorted[Math.floor(sorted.length / 2)] ?? 0).toFixed(2)} µs a reading\n`,
);
