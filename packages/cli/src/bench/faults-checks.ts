import { isDeepStrictEqual } from 'node:util';
import type { Kafka } from 'kafkajs';
import type { Document } from 'mongodb';
import { questDbConnection } from '@gridstream/config';
import type { Config } from '@gridstream/config';
import { DlqHeader, findLetters, groupLag, readTopicToEnd, topicNames } from '@gridstream/kafka';
import type { TopicLag } from '@gridstream/kafka';
import { connectMongo } from '@gridstream/mongo';
import {
  BuildRegistry,
  buildCollectionName,
  buildGroupId,
  rebuildProjection,
} from '@gridstream/projection';
import type { ProjectionDefinition } from '@gridstream/projection';
import { createQuestDbReader, energyTables, waitForWalApplied } from '@gridstream/questdb';
import type { QuestDbReader } from '@gridstream/questdb';
// energy-core is not a dependency of the CLI package (packages/cli/package.json): its sources
// are imported by path, as the recomputation must use the very functions the processor uses.
import {
  DEFAULT_ENERGY_SETTINGS,
  DeviceTimeline,
  quarterHourStartMs,
  QUARTER_HOUR_MS,
  spanIntervals,
} from '../../../energy-core/src/index.ts';
import type { EnergyReading } from '../../../energy-core/src/index.ts';
import { PROJECTIONS } from '../rebuild.ts';
import { deviceIdOf, FAULTS_TENANT } from './faults-load.ts';
import type { Ledger } from './faults-load.ts';
import { poisonPosition } from './faults-poison.ts';
import type { PoisonClass, PoisonMessage } from './faults-poison.ts';

const header = (headers: Record<string, unknown> | undefined, name: string) => {
  const value = headers?.[name];
  const one: unknown = Array.isArray(value) ? (value as unknown[])[0] : value;
  return typeof one === 'string' ? one : Buffer.isBuffer(one) ? one.toString('utf8') : undefined;
};

export interface DlqResult {
  /** Records in the DLQ topic (letters and their copies, redrive records aside). */
  readonly letters: number;
  /** A poison message some group that reads its topic never dead-lettered. */
  readonly missing: number;
  /**
   * A poison message shown to an operator (findLetters: `dlq list`, the API, redrive) more than
   * once for one group: copies must be taken as one letter.
   */
  readonly duplicated: number;
  /** Records that are a copy of a letter already written (the same message, the same group). */
  readonly copies: number;
  /** Letters of anything that was not poison (a good reading dead-lettered). */
  readonly unexpected: number;
  /** Per class: messages sent, letters expected, letters found. */
  readonly byClass: Map<PoisonClass, { sent: number; expected: number; found: number }>;
  readonly unexpectedReasons: Map<string, number>;
  readonly missingExamples: string[];
  /** Each poison message a group dead-lettered more than once, with when each letter was written. */
  readonly doubled: { kind: PoisonClass; group: string; failedAtMs: number[] }[];
  /** Seconds until no letter was missing (a transaction left open hid some), or given up. */
  readonly waitedS: number;
}

/**
 * Each poison message must be in the DLQ once per consumer group that reads its topic (the
 * groups that committed on it), and nothing else may be. A letter written twice (a window
 * kafkajs leaves open, docs/events.md) is counted as a copy; it must still be one letter in what
 * an operator sees, which is read as `dlq list` reads it.
 */
export async function checkDlq(
  kafka: Kafka,
  config: Config,
  poison: ReadonlyMap<string, PoisonMessage>,
  tried: ReadonlySet<string>,
  lag: readonly TopicLag[],
): Promise<DlqResult> {
  // A transaction left open (its producer killed, or its end unanswered while a node died)
  // hides every later letter of its partition from read_committed readers until the
  // coordinator settles it: at the latest its timeout (kafkajs: 60 s). A letter missing now is
  // looked for again until then; how long that took is printed.
  const started = Date.now();
  for (let looked = 0; ; looked++) {
    const result = await checkDlqOnce(kafka, config, poison, tried, lag);
    const waitedMs = looked === 0 ? 0 : Date.now() - started;
    if (result.missing === 0 || waitedMs > DLQ_SETTLE_MS)
      return { ...result, waitedS: Math.round(waitedMs / 1000) };
    await new Promise((resolve) => setTimeout(resolve, 10_000));
  }
}

/** How long missing letters are looked for again: past kafkajs's transaction timeout (60 s). */
const DLQ_SETTLE_MS = 75_000;

async function checkDlqOnce(
  kafka: Kafka,
  config: Config,
  poison: ReadonlyMap<string, PoisonMessage>,
  tried: ReadonlySet<string>,
  lag: readonly TopicLag[],
): Promise<Omit<DlqResult, 'waitedS'>> {
  const topics = topicNames(config.GS_TOPIC_PREFIX);
  const letters = await readTopicToEnd(kafka, topics.dlq, 120_000);
  const groupsOf = new Map<string, Set<string>>();
  for (const { group, topic } of lag) {
    const set = groupsOf.get(topic) ?? new Set<string>();
    set.add(group);
    groupsOf.set(topic, set);
  }
  const found = new Map<string, Map<string, number>>();
  const failedAt = new Map<string, number[]>();
  let unexpected = 0;
  const unexpectedReasons = new Map<string, number>();
  for (const letter of letters) {
    const h = letter.headers as Record<string, unknown> | undefined;
    const at = poisonPosition(
      header(h, DlqHeader.sourceTopic) ?? '?',
      Number(header(h, DlqHeader.sourcePartition) ?? -1),
      header(h, DlqHeader.sourceOffset) ?? '?',
    );
    const group = header(h, DlqHeader.consumerGroup) ?? '(no group header)';
    if (poison.has(at)) {
      const byGroup = found.get(at) ?? new Map<string, number>();
      byGroup.set(group, (byGroup.get(group) ?? 0) + 1);
      found.set(at, byGroup);
      const times = failedAt.get(`${at} ${group}`) ?? [];
      times.push(Date.parse(header(h, DlqHeader.failedAt) ?? ''));
      failedAt.set(`${at} ${group}`, times);
      continue;
    }
    // A poison send that failed on our side but reached Kafka is poison all the same.
    const id = header(h, 'ce_id');
    if (id !== undefined && tried.has(id)) continue;
    unexpected++;
    const reason = `${group}: ${(header(h, DlqHeader.error) ?? '?').slice(0, 120)}`;
    unexpectedReasons.set(reason, (unexpectedReasons.get(reason) ?? 0) + 1);
  }
  let missing = 0;
  let copies = 0;
  const missingExamples: string[] = [];
  const doubled: DlqResult['doubled'] = [];
  const byClass = new Map<PoisonClass, { sent: number; expected: number; found: number }>();
  for (const [at, message] of poison) {
    const groups = groupsOf.get(message.topic) ?? new Set<string>();
    const byGroup = found.get(at) ?? new Map<string, number>();
    const c = byClass.get(message.kind) ?? { sent: 0, expected: 0, found: 0 };
    c.sent++;
    c.expected += groups.size;
    for (const group of groups) {
      const n = byGroup.get(group) ?? 0;
      c.found += n;
      if (n === 0) {
        missing++;
        if (missingExamples.length < 12)
          missingExamples.push(`${message.kind} not dead-lettered by ${group}`);
      }
      if (n > 1) {
        copies += n - 1;
        doubled.push({
          kind: message.kind,
          group,
          failedAtMs: (failedAt.get(`${at} ${group}`) ?? []).sort((a, b) => a - b),
        });
      }
    }
    for (const [group, n] of byGroup)
      if (!groups.has(group)) {
        // a group that dead-lettered it but no longer commits on the topic (e.g. a rebuild)
        c.found += n;
      }
    byClass.set(message.kind, c);
  }
  // What an operator is shown: one letter per message and group, copies folded into it.
  const shown = new Map<string, number>();
  for (const letter of (await findLetters(kafka, topics.dlq, {}, { keepBytes: false })).letters) {
    const at = poisonPosition(letter.source.topic, letter.source.partition, letter.source.offset);
    if (!poison.has(at)) continue;
    const key = `${at} ${letter.consumerGroup ?? ''}`;
    shown.set(key, (shown.get(key) ?? 0) + 1);
  }
  let duplicated = 0;
  for (const n of shown.values()) if (n > 1) duplicated += n - 1;
  return {
    letters: letters.length,
    missing,
    duplicated,
    copies,
    unexpected,
    byClass,
    unexpectedReasons,
    missingExamples,
    doubled,
  };
}

export interface StoreResult {
  readonly lost: number;
  readonly duplicated: number;
  /** Stored with other values, device or time than the ledger says. */
  readonly altered: number;
  /** Rows of the tenant no 202 vouched for (a request whose answer was lost, or poison applied). */
  readonly unledgered: number;
  readonly energyMismatches: number;
  readonly energyBuckets: number;
  readonly examples: string[];
}

interface ReadingRow {
  ts: Date;
  device_id: string;
  event_id: string;
  power_w: number | null;
  import_wh: number | null;
  export_wh: number | null;
  quality: string | null;
  delta_import_wh: number | null;
  kafka_partition: number | null;
  kafka_offset: number | null;
}

interface EnergyRow {
  ts: Date;
  device_id: string;
  import_wh: number;
  export_wh: number;
}

const close = (a: number, b: number) =>
  Math.abs(a - b) <= 1e-6 + 1e-9 * Math.max(Math.abs(a), Math.abs(b));

function rowsOfDevice(rows: readonly ReadingRow[], deviceId: string): ReadingRow[] {
  return rows
    .filter((r) => r.device_id === deviceId)
    .sort((a, b) => a.ts.getTime() - b.ts.getTime());
}

/**
 * Where a device's stored interval energies first differ from a recomputation: the reading,
 * what was stored and recomputed, and the Kafka position the processor took it from. A
 * mismatch then says which batch (and which fault near it) to look at.
 */
function firstDivergence(
  readings: readonly EnergyReading[],
  rows: readonly ReadingRow[],
  settings: typeof DEFAULT_ENERGY_SETTINGS,
): string {
  const sorted = [...readings].sort((a, b) => a.timeMs - b.timeMs);
  if (sorted.length < 2 || sorted.length !== rows.length) return '    (no per-reading comparison)';
  const intervals = spanIntervals(sorted, settings);
  for (let i = 1; i < sorted.length; i++) {
    const row = rows[i];
    const want = intervals[i - 1]?.importWh ?? 0;
    if (row !== undefined && !close(row.delta_import_wh ?? 0, want)) {
      const around = rows
        .slice(Math.max(0, i - 2), i + 2)
        .map(
          (r) =>
            `${r.ts.toISOString()} p${r.kafka_partition}@${r.kafka_offset} import ${r.import_wh} delta ${r.delta_import_wh}`,
        )
        .join('; ');
      return `    first divergence at reading ${i} of ${sorted.length}: stored delta ${row.delta_import_wh}, recomputed ${want}; around it: ${around}`;
    }
  }
  return '    every stored reading delta equals its recomputation: the quarter-hour row alone differs';
}

/**
 * Every ledgered reading is in QuestDB exactly once, as it was sent; every device's 15-minute
 * energy equals a recomputation from its stored readings with energy-core's DeviceTimeline
 * (the whole history at once, so no eviction or reload is involved).
 */
export async function checkStore(
  config: Config,
  ledger: Ledger,
  devices: number,
): Promise<StoreResult> {
  const reader = createQuestDbReader(questDbConnection(config));
  const tables = energyTables(config.GS_QDB_TABLE_PREFIX);
  try {
    await waitForWalApplied(reader, tables.readings, 120_000);
    await waitForWalApplied(reader, tables.deviceEnergy15m, 120_000);
    const byDevice = new Map<number, number[]>();
    for (let i = 0; i < ledger.size; i++) {
      const d = ledger.device[i] ?? -1;
      const list = byDevice.get(d) ?? [];
      list.push(i);
      byDevice.set(d, list);
    }
    const settings = {
      ...DEFAULT_ENERGY_SETTINGS,
      maxIntegrationGapMs: config.GS_ENERGY_MAX_GAP_MS,
    };
    let lost = 0;
    let duplicated = 0;
    let altered = 0;
    let unledgered = 0;
    let energyMismatches = 0;
    let energyBuckets = 0;
    const examples: string[] = [];
    const example = (line: string) => {
      if (examples.length < 12) examples.push(line);
    };
    const chunk = 50;
    for (let first = 0; first < devices; first += chunk) {
      const ids = Array.from({ length: Math.min(chunk, devices - first) }, (_, i) =>
        deviceIdOf(first + i),
      );
      const rows = await queryDevices<ReadingRow>(
        reader,
        `SELECT ts, device_id, event_id, power_w, import_wh, export_wh, quality, delta_import_wh, kafka_partition, kafka_offset FROM "${tables.readings}"`,
        ids,
      );
      const energy = await queryDevices<EnergyRow>(
        reader,
        `SELECT ts, device_id, import_wh, export_wh FROM "${tables.deviceEnergy15m}"`,
        ids,
      );
      const rowsById = new Map<string, ReadingRow[]>();
      for (const row of rows) {
        const list = rowsById.get(row.event_id) ?? [];
        list.push(row);
        rowsById.set(row.event_id, list);
      }
      const ledgered = new Set<string>();
      for (let d = first; d < first + ids.length; d++) {
        for (const i of byDevice.get(d) ?? []) {
          const id = ledger.ids[i] ?? '';
          ledgered.add(id);
          const stored = rowsById.get(id) ?? [];
          if (stored.length === 0) {
            lost++;
            example(
              `lost: ${deviceIdOf(d)} ${new Date(ledger.timeMs[i] ?? 0).toISOString()} ${id} (${ledger.straight.has(id) ? 'straight to Kafka' : 'through the API'})`,
            );
            continue;
          }
          if (stored.length > 1) duplicated += stored.length - 1;
          const row = stored[0];
          const importWh = ledger.importWh[i] ?? Number.NaN;
          if (
            row === undefined ||
            row.device_id !== deviceIdOf(d) ||
            row.ts.getTime() !== ledger.timeMs[i] ||
            row.power_w !== ledger.powerW[i] ||
            (Number.isNaN(importWh) ? row.import_wh !== null : row.import_wh !== importWh)
          ) {
            altered++;
            example(`altered: ${id} stored ${JSON.stringify(row)}`);
          }
        }
      }
      for (const id of rowsById.keys()) if (!ledgered.has(id)) unledgered++;

      // Energy: recomputed from the stored rows, bucket by bucket.
      const readingsOf = new Map<string, EnergyReading[]>();
      for (const row of rows) {
        const list = readingsOf.get(row.device_id) ?? [];
        list.push({
          deviceId: row.device_id,
          timeMs: row.ts.getTime(),
          powerW: row.power_w ?? undefined,
          importWh: row.import_wh ?? undefined,
          exportWh: row.export_wh ?? undefined,
          quality: (row.quality ?? 'good') as EnergyReading['quality'],
        });
        readingsOf.set(row.device_id, list);
      }
      const storedEnergy = new Map<string, EnergyRow>();
      for (const row of energy) storedEnergy.set(`${row.device_id}/${row.ts.getTime()}`, row);
      const seen = new Set<string>();
      for (const [deviceId, readings] of readingsOf) {
        const timeline = DeviceTimeline.rebuild(
          deviceId,
          readings,
          settings,
          { maxReadings: Number.MAX_SAFE_INTEGER, maxAgeMs: Number.MAX_SAFE_INTEGER },
          'whole',
        );
        const times = readings.map((r) => r.timeMs);
        const from = quarterHourStartMs(Math.min(...times));
        const to = Math.max(...times);
        for (let start = from; start <= to; start += QUARTER_HOUR_MS) {
          const want = timeline.quarterHour(start);
          const key = `${deviceId}/${start}`;
          seen.add(key);
          const got = storedEnergy.get(key);
          if (got === undefined && want.measuredMs === 0 && want.importWh === 0) continue;
          energyBuckets++;
          if (
            got === undefined ||
            !close(got.import_wh, want.importWh) ||
            !close(got.export_wh, want.exportWh)
          ) {
            energyMismatches++;
            example(
              `energy: ${deviceId} ${new Date(start).toISOString()} stored ${got === undefined ? 'nothing' : `${got.import_wh}/${got.export_wh}`} Wh, recomputed ${want.importWh}/${want.exportWh} Wh`,
            );
            if (energyMismatches <= 3)
              example(firstDivergence(readings, rowsOfDevice(rows, deviceId), settings));
          }
        }
      }
      for (const key of storedEnergy.keys())
        if (!seen.has(key)) {
          energyMismatches++;
          example(`energy: a stored bucket ${key} no stored reading accounts for`);
        }
    }
    return {
      lost,
      duplicated,
      altered,
      unledgered,
      energyMismatches,
      energyBuckets,
      examples,
    };
  } finally {
    await reader.close();
  }
}

async function queryDevices<Row extends object>(
  reader: QuestDbReader,
  select: string,
  deviceIds: readonly string[],
): Promise<Row[]> {
  const list = deviceIds.map((id) => `'${id}'`).join(',');
  return reader.query<Row>(
    `${select} WHERE tenant = '${FAULTS_TENANT}' AND device_id IN (${list}) ORDER BY ts`,
  );
}

export interface ProjectionResult {
  readonly name: string;
  readonly documents: number;
  readonly mismatches: number;
  readonly examples: string[];
}

/**
 * Each projection's live documents equal a fresh rebuild's: the live build is read, then
 * `rebuildProjection` builds it again from the start of the log and switches readers to it, and
 * the two are compared document by document (state only: log positions may differ).
 */
export async function checkProjections(
  config: Config,
  kafka: Kafka,
  log: (line: string) => void,
): Promise<ProjectionResult[]> {
  const results: ProjectionResult[] = [];
  for (const name of Object.keys(PROJECTIONS) as (keyof typeof PROJECTIONS)[]) {
    const definition = PROJECTIONS[name] as unknown as ProjectionDefinition<Document>;
    const behind = await liveBuildCaughtUp(config, kafka, definition, 120_000);
    if (behind > 0)
      log(
        `  projection ${name}: the live build is still ${behind} events behind after 120 s; compared as it is`,
      );
    const before = await readBuild(config, definition);
    const result = await rebuildProjection(config, definition, { caughtUpLag: 0 });
    const after = await readBuild(config, definition, result.buildId);
    let mismatches = 0;
    const examples: string[] = [];
    for (const [id, state] of after) {
      const live = before.get(id);
      if (!isDeepStrictEqual(live, state)) {
        mismatches++;
        if (examples.length < 5)
          examples.push(
            `${name} ${id}: live ${JSON.stringify(live)?.slice(0, 300)} rebuilt ${JSON.stringify(state).slice(0, 300)}`,
          );
      }
    }
    for (const id of before.keys())
      if (!after.has(id)) {
        mismatches++;
        if (examples.length < 5) examples.push(`${name} ${id}: live only, not in the rebuild`);
      }
    log(
      `  projection ${name}: ${after.size} documents rebuilt (build ${result.buildId}), ${mismatches} differ from the live build`,
    );
    results.push({ name, documents: after.size, mismatches, examples });
  }
  return results;
}

/** Waits until the live build's group has committed the whole log; returns what is left. */
async function liveBuildCaughtUp(
  config: Config,
  kafka: Kafka,
  definition: ProjectionDefinition<Document>,
  timeoutMs: number,
): Promise<number> {
  const mongo = await connectMongo(config);
  const admin = kafka.admin();
  await admin.connect();
  try {
    const active = (await new BuildRegistry(mongo.db).ensure(definition.name, definition.version))
      .active;
    const names = topicNames(config.GS_TOPIC_PREFIX);
    const topics = definition.topics.map((role) => names[role]);
    const group = buildGroupId(config.GS_TOPIC_PREFIX, definition.name, active);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { total } = await groupLag(admin, group, topics);
      if (total === 0 || Date.now() > deadline) return total;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  } finally {
    await admin.disconnect();
    await mongo.close();
  }
}

async function readBuild(
  config: Config,
  definition: ProjectionDefinition<Document>,
  buildId?: string,
): Promise<Map<string, unknown>> {
  const mongo = await connectMongo(config);
  try {
    const registry = new BuildRegistry(mongo.db);
    const active = buildId ?? (await registry.ensure(definition.name, definition.version)).active;
    const docs = await mongo.db
      .collection<{ _id: string; state: unknown }>(buildCollectionName(definition.name, active))
      .find({}, { projection: { state: 1 } })
      .toArray();
    return new Map(docs.map((d) => [d._id, normalise(d.state)]));
  } finally {
    await mongo.close();
  }
}

/** Round-trips through JSON, so a Date and its ISO text, or a missing and an undefined field, compare equal. */
function normalise(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? null)) as unknown;
}
