import type { QuestDbReader, StoredReading, StoredReadingRow } from '@gridstream/questdb';
import {
  STORED_READING_COLUMNS,
  mergeStoredReadings,
  storedReadingFromRow,
  waitForWalApplied,
} from '@gridstream/questdb';
import { DeviceTimeline, QUARTER_HOUR_MS, quarterHourStartMs } from '@gridstream/energy-core';
import type { EnergySettings, LoadedHistory, TimelineLimits } from '@gridstream/energy-core';
import { GridstreamError } from '@gridstream/errors';
import type { EnergyBatch, PlacedOutcome, StoredTimeline } from './energy-batch.ts';
import { betraysLostReadings, lostReadingsReason, lostReadingsWindow } from './lost-readings.ts';

export interface TimelineStoreOptions {
  readonly reader: QuestDbReader;
  readonly readingsTable: string;
  /**
   * The kept quarter hours: a load that finds no reading of a device before some instant asks
   * them whether the device had readings there that QuestDB no longer holds (lost-readings.ts).
   */
  readonly deviceEnergyTable: string;
  /** The readings table's TTL in days (0: kept), named when a reading is refused. */
  readonly readingsTtlDays: number;
  /**
   * A device's settings (its counter register among them), taken when its timeline is built:
   * a registration seen later applies from the timeline's next rebuild (docs/energy.md).
   */
  readonly settingsOf: (tenant: string, deviceId: string) => EnergySettings;
  readonly limits: TimelineLimits;
  /** Timelines kept in memory at most; the least recently used is dropped and reloaded if seen again. */
  readonly maxDevices: number;
}

export interface DeviceWindow {
  readonly tenant: string;
  readonly deviceId: string;
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * The `tenant/device` key of each device, made once: a key built per reading (a concatenation,
 * then its hash on every lookup) cost more than the lookup. Bounded: when full, it starts again
 * from empty (the keys are equal strings either way).
 */
class DeviceKeys {
  readonly #byTenant = new Map<string, Map<string, string>>();
  #size = 0;
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  of(tenant: string, deviceId: string): string {
    let byDevice = this.#byTenant.get(tenant);
    const known = byDevice?.get(deviceId);
    if (known !== undefined) return known;
    if (this.#size >= this.#max) {
      this.#byTenant.clear();
      this.#size = 0;
      byDevice = undefined;
    }
    if (byDevice === undefined) {
      byDevice = new Map();
      this.#byTenant.set(tenant, byDevice);
    }
    const key = `${tenant}/${deviceId}`;
    byDevice.set(deviceId, key);
    this.#size++;
    return key;
  }
}

/**
 * Each device's recent readings, in memory, bounded. A device seen for the first time by this
 * instance (a fresh start, a partition assigned after a rebalance, or one dropped as least
 * recently used) is rebuilt from the readings already stored in QuestDB, so any instance can take
 * any partition and a restart from any committed offset gives the same figures.
 */
export class DeviceTimelines {
  readonly #options: TimelineStoreOptions;
  readonly #timelines = new Map<string, StoredTimeline>();
  readonly #keys: DeviceKeys;

  constructor(options: TimelineStoreOptions) {
    this.#options = options;
    this.#keys = new DeviceKeys(2 * options.maxDevices);
  }

  /**
   * Drops every timeline: after a rebalance a partition may come back from another instance
   * that moved its devices on meanwhile, so what this one held of them is stale. Each device is
   * loaded again from QuestDB when its next reading comes.
   */
  forgetAll(): void {
    this.#timelines.clear();
  }

  /**
   * Drops every timeline but those of devices whose newest reading came from one of `kept`: the
   * readings partitions this instance held without a break (`keptPartitions`), whose devices
   * nobody else can have moved on. A rebalance then reloads only what changed hands, not every
   * device (at start two workers joining one after the other reloaded all 5,000 of bench energy).
   */
  forgetAllBut(kept: ReadonlySet<number>): void {
    if (kept.size === 0) {
      this.forgetAll();
      return;
    }
    for (const [key, timeline] of this.#timelines) {
      const partition = timeline.newest?.kafkaPartition;
      if (partition === undefined || !kept.has(partition)) this.#timelines.delete(key);
    }
  }

  /**
   * Loads, in one query per tenant, every device of the batch that is not in memory. With
   * `walApplied`, the caller has just waited for QuestDB to apply what was flushed.
   */
  async ensureLoaded(windows: readonly DeviceWindow[], walApplied = false): Promise<void> {
    const missing: DeviceWindow[] = [];
    for (const w of windows) {
      const key = this.#keys.of(w.tenant, w.deviceId);
      const timeline = this.#timelines.get(key);
      // Used by this batch: the most recently used, once per batch rather than per reading.
      if (timeline === undefined) missing.push(w);
      else this.#remember(key, timeline);
    }
    if (missing.length === 0) return;
    const { reader, readingsTable, limits } = this.#options;
    // Rows this or another instance flushed may not be applied yet (QuestDB applies WAL asynchronously).
    if (!walApplied) await waitForWalApplied(reader, readingsTable);
    const byTenant = Map.groupBy(missing, (w) => w.tenant);
    for (const [tenant, devices] of byTenant) {
      // Everything from the window's start up to the newest stored reading: a timeline must not
      // miss stored readings after the ones it holds, or it would compute intervals across them.
      // A counter span limit more: a span may reach back that far from the window's readings.
      const spanLimitMs = Math.max(
        ...devices.map((d) => this.#options.settingsOf(tenant, d.deviceId).maxCounterSpanMs),
      );
      const fromMs = quarterHourStartMs(
        Math.min(...devices.map((d) => d.fromMs)) - limits.maxAgeMs - spanLimitMs,
      );

      const ids = devices.map((d) => d.deviceId);
      const placeholders = ids.map((_, i) => `$${i + 3}`).join(', ');
      const rows = await reader.query<StoredReadingRow>(
        `SELECT ${STORED_READING_COLUMNS} FROM "${readingsTable}"
         WHERE tenant = $1 AND ts >= $2 AND device_id IN (${placeholders})`,
        [tenant, new Date(fromMs).toISOString(), ...ids],
      );
      // Devices with a reading before the window have a history the window does not hold.
      const older = await reader.query<{ device_id: string }>(
        `SELECT DISTINCT device_id FROM "${readingsTable}"
         WHERE tenant = $1 AND ts < $2 AND device_id IN (${placeholders})`,
        [tenant, new Date(fromMs).toISOString(), ...ids],
      );
      const withOlderHistory = new Set(older.map((row) => row.device_id));
      const byDevice = Map.groupBy(rows, (row) => row.device_id);
      const firstHeldMs = (deviceId: string) => {
        const held = byDevice.get(deviceId);
        return held && Math.min(...held.map((row) => row.ts.getTime()));
      };
      // A device with no stored reading before the load would be taken as having no history
      // before its first loaded one; unless kept figures show readings there that are gone.
      const lost = await this.#devicesWithLostReadings(
        tenant,
        ids.filter((id) => !withOlderHistory.has(id)),
        fromMs,
        firstHeldMs,
      );
      for (const deviceId of ids) {
        const stored = (byDevice.get(deviceId) ?? []).map(storedReadingFromRow);
        // What came before the first held reading is unknown: a reading that needs it goes to
        // the late path, which refuses it.
        const history: LoadedHistory =
          withOlderHistory.has(deviceId) || lost.has(deviceId) ? 'recent' : 'whole';
        this.#remember(
          this.#keys.of(tenant, deviceId),
          DeviceTimeline.rebuild(
            deviceId,
            stored,
            this.#options.settingsOf(tenant, deviceId),
            limits,
            history,
            {
              loadedFromMs: lost.has(deviceId) ? firstHeldMs(deviceId) : fromMs,
              merge: mergeStoredReadings,
            },
          ),
        );
      }
    }
  }

  /**
   * Inserts a reading into its device's timeline if the timeline is in memory and holds the
   * reading's neighbours, and records what it changed in the batch; false, and nothing done,
   * otherwise (then `insert`). The common case, without a promise per reading.
   */
  insertInMemory(reading: StoredReading, batch: EnergyBatch): boolean {
    const timeline = this.#timelines.get(this.#keys.of(reading.tenant, reading.deviceId));
    if (timeline === undefined) return false;
    const outcome = timeline.insert(reading);
    if (outcome.status === 'before_horizon') return false;
    batch.record(reading.tenant, timeline, outcome);
    return true;
  }

  /**
   * Places a batch's readings, each device's in their order. Those the timelines in memory take
   * go in at once. The others need QuestDB (a reading older than its timeline holds, or a
   * timeline to load again after one) and go in rounds: a round flushes the batch's rows and
   * waits once for QuestDB to apply them, then takes the next such reading of every device and
   * what follows it that the device's timeline then takes. One at a time, each cost a flush and
   * a wait of its own, 60-675 ms on a busy machine: after a Kafka node's outage, when clients
   * sent again what it had refused, a batch of such readings held its partition for up to 30 s.
   */
  async place(
    readings: readonly StoredReading[],
    batch: EnergyBatch,
    /** Writes the batch's rows so far and makes them durable, so a read of QuestDB sees them. */
    flushPending: () => Promise<void>,
  ): Promise<void> {
    const waiting = new Map<string, StoredReading[]>();
    const keyOf = (reading: StoredReading) => this.#keys.of(reading.tenant, reading.deviceId);
    for (const reading of readings) {
      // The common case (nothing waits) costs no key: the hot path of a batch.
      if (waiting.size > 0) {
        const queued = waiting.get(keyOf(reading));
        if (queued !== undefined) {
          queued.push(reading);
          continue;
        }
      }
      if (!this.insertInMemory(reading, batch)) waiting.set(keyOf(reading), [reading]);
    }
    const { reader, readingsTable } = this.#options;
    while (waiting.size > 0) {
      // Every row recorded so far, each device's own among them, is in QuestDB after this; a
      // device records nothing more before its reading of the round has read QuestDB.
      await flushPending();
      await waitForWalApplied(reader, readingsTable);
      for (const [key, queued] of waiting) {
        const next = queued.shift();
        if (next !== undefined) await this.insert(next, batch, flushPending, true);
        while (queued.length > 0 && this.insertInMemory(queued[0] as StoredReading, batch))
          queued.shift();
        if (queued.length === 0) waiting.delete(key);
      }
    }
  }

  /**
   * Inserts a reading into its device's timeline (loaded by ensureLoaded, or now if it was
   * dropped meanwhile), or places it from QuestDB if it is older than the timeline holds, and
   * records what it changed in the batch.
   */
  async insert(
    reading: StoredReading,
    batch: EnergyBatch,
    /** Writes the batch's rows so far and makes them durable, so a read of QuestDB sees them. */
    flushPending: () => Promise<void>,
    /** The device's rows so far are flushed and applied already (`place`): no flush, no wait. */
    walApplied = false,
  ): Promise<void> {
    const { tenant } = reading;
    const key = this.#keys.of(tenant, reading.deviceId);
    let timeline = this.#timelines.get(key);
    if (timeline === undefined) {
      if (!walApplied) await flushPending();
      await this.ensureLoaded(
        [{ tenant, deviceId: reading.deviceId, fromMs: reading.timeMs, toMs: reading.timeMs }],
        walApplied,
      );
      timeline = this.#timelines.get(key);
      if (timeline === undefined) throw new Error(`timeline of ${key} could not be loaded`);
    }
    this.#remember(key, timeline);
    const outcome = timeline.insert(reading);
    if (outcome.status !== 'before_horizon') {
      batch.record(tenant, timeline, outcome);
      return;
    }
    // The timeline in memory does not see this reading; an interval it holds may span it and
    // would later report a bucket without it. Total what the batch changed in it, then drop it:
    // the device's next reading reloads it from QuestDB.
    batch.settle(timeline);
    this.#timelines.delete(key);
    // The late path reads QuestDB, which must first hold the readings of the batch so far.
    if (!walApplied) await flushPending();
    const { timeline: temporary, outcome: late } = await this.#insertLate(reading, walApplied);
    batch.record(tenant, temporary, late);
    batch.settle(temporary);
  }

  /**
   * A reading older than the device's timeline: the readings whose intervals it can change and
   * those of the quarter hours around them are read from QuestDB into a temporary timeline.
   * It changes intervals from the anchor (counter reading) before it to the anchor after it, at
   * most a counter span limit away, or its neighbours if they are farther; an interval there
   * may in turn be in a span reaching a limit further. Bounded by those limits and the gaps.
   */
  async #insertLate(
    reading: StoredReading,
    walApplied: boolean,
  ): Promise<{ timeline: StoredTimeline; outcome: PlacedOutcome }> {
    const { tenant } = reading;
    const { reader, readingsTable, settingsOf } = this.#options;
    const settings = settingsOf(tenant, reading.deviceId);
    const spanLimitMs = settings.maxCounterSpanMs;
    if (!walApplied) await waitForWalApplied(reader, readingsTable);
    const one = async (condition: string, order: 'ASC' | 'DESC', timeMs: number) =>
      (
        await reader.query<{ ts: Date }>(
          `SELECT ts FROM "${readingsTable}" WHERE tenant = $1 AND device_id = $2 AND ${condition} ORDER BY ts ${order} LIMIT 1`,
          [tenant, reading.deviceId, new Date(timeMs).toISOString()],
        )
      )[0]?.ts.getTime();
    const predecessor = await one('ts < $3', 'DESC', reading.timeMs);
    const successor = await one('ts > $3', 'ASC', reading.timeMs);
    // The first quarter hour the reading can change, and every interval that overlaps it with
    // its spans: from a limit before that quarter hour, and at least from the reading before it
    // (else that quarter hour is the device's first, and all of it is loaded).
    const firstQuarterMs = quarterHourStartMs(
      Math.min(predecessor ?? reading.timeMs, reading.timeMs - spanLimitMs),
    );
    const before = await one('ts < $3', 'DESC', firstQuarterMs);
    const fromMs =
      before === undefined
        ? firstQuarterMs - spanLimitMs
        : Math.min(before, firstQuarterMs - spanLimitMs);
    // Likewise after the last quarter hour it can change: up to the first reading at least a
    // limit after that quarter hour's end (or everything, if there is none).
    const lastQuarterEndMs =
      quarterHourStartMs(Math.max(successor ?? reading.timeMs, reading.timeMs + spanLimitMs)) +
      QUARTER_HOUR_MS;
    const after = await one('ts >= $3', 'ASC', lastQuarterEndMs + spanLimitMs);
    const rows = await reader.query<StoredReadingRow>(
      `SELECT ${STORED_READING_COLUMNS} FROM "${readingsTable}" WHERE tenant = $1 AND device_id = $2 AND ts >= $3${after === undefined ? '' : ' AND ts <= $4'}`,
      [
        tenant,
        reading.deviceId,
        new Date(fromMs).toISOString(),
        ...(after === undefined ? [] : [new Date(after).toISOString()]),
      ],
    );
    if (predecessor === undefined) {
      // Taken as the device's first reading: unless kept figures show readings before it that
      // QuestDB no longer holds. Recomputed without them, those figures would be wrong.
      const firstHeldMs = rows.reduce(
        (min, row) => Math.min(min, row.ts.getTime()),
        Number.POSITIVE_INFINITY,
      );
      const window = lostReadingsWindow(
        fromMs,
        Number.isFinite(firstHeldMs) ? firstHeldMs : undefined,
      );
      const figureMs = (await this.#earliestFigures(tenant, [reading.deviceId], window.fromMs)).get(
        reading.deviceId,
      );
      if (betraysLostReadings(window, figureMs) && figureMs !== undefined)
        throw new GridstreamError(
          'POISON_MESSAGE',
          lostReadingsReason({
            tenant,
            deviceId: reading.deviceId,
            readingMs: reading.timeMs,
            figureMs,
            ttlDays: this.#options.readingsTtlDays,
          }),
        );
    }
    const unbounded = { maxReadings: Number.MAX_SAFE_INTEGER, maxAgeMs: Number.MAX_SAFE_INTEGER };
    const history = before === undefined ? 'whole' : 'recent';
    const timeline = DeviceTimeline.rebuild(
      reading.deviceId,
      rows.map(storedReadingFromRow),
      settings,
      unbounded,
      history,
      { loadedFromMs: fromMs, merge: mergeStoredReadings },
    );
    const outcome = timeline.insert(reading);
    if (outcome.status === 'before_horizon')
      throw new Error(
        `late reading of ${tenant}/${reading.deviceId} at ${new Date(reading.timeMs).toISOString()} could not be placed`,
      );
    return { timeline, outcome };
  }

  /** Of the devices, those whose kept figures betray readings QuestDB no longer holds. */
  async #devicesWithLostReadings(
    tenant: string,
    deviceIds: readonly string[],
    loadFromMs: number,
    firstHeldMs: (deviceId: string) => number | undefined,
  ): Promise<ReadonlySet<string>> {
    if (deviceIds.length === 0) return new Set();
    const figures = await this.#earliestFigures(tenant, deviceIds, quarterHourStartMs(loadFromMs));
    return new Set(
      deviceIds.filter((deviceId) => {
        const window = lostReadingsWindow(loadFromMs, firstHeldMs(deviceId));
        return betraysLostReadings(window, figures.get(deviceId));
      }),
    );
  }

  /** Each device's earliest kept quarter-hour figure from `fromMs` on (none: absent). */
  async #earliestFigures(
    tenant: string,
    deviceIds: readonly string[],
    fromMs: number,
  ): Promise<ReadonlyMap<string, number>> {
    const { reader, deviceEnergyTable } = this.#options;
    // Figures written by earlier batches, applied: a device's own could otherwise be missed.
    await waitForWalApplied(reader, deviceEnergyTable);
    const placeholders = deviceIds.map((_, i) => `$${i + 3}`).join(', ');
    const rows = await reader.query<{ device_id: string; first: Date }>(
      `SELECT device_id, min(ts) first FROM "${deviceEnergyTable}"
       WHERE tenant = $1 AND ts >= $2 AND device_id IN (${placeholders})`,
      [tenant, new Date(fromMs).toISOString(), ...deviceIds],
    );
    return new Map(rows.map((row) => [row.device_id, row.first.getTime()]));
  }

  #remember(key: string, timeline: StoredTimeline): void {
    this.#timelines.delete(key);
    this.#timelines.set(key, timeline);
    if (this.#timelines.size > this.#options.maxDevices) {
      const oldest = this.#timelines.keys().next().value;
      if (oldest !== undefined) this.#timelines.delete(oldest);
    }
  }
}
