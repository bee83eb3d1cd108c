import type { ReadingQuality } from '@gridstream/events';
import type { QuestDbReader } from '@gridstream/questdb';
import { waitForWalApplied } from '@gridstream/questdb';
import { DeviceTimeline, QUARTER_HOUR_MS, quarterHourStartMs } from './core/index.ts';
import type { EnergyReading, EnergySettings, InsertOutcome, TimelineLimits } from './core/index.ts';

interface StoredReadingRow {
  ts: Date;
  device_id: string;
  power_w: number | null;
  import_wh: number | null;
  export_wh: number | null;
  l1_power_w: number | null;
  l2_power_w: number | null;
  l3_power_w: number | null;
  quality: ReadingQuality | null;
}

const READING_COLUMNS =
  'ts, device_id, power_w, import_wh, export_wh, l1_power_w, l2_power_w, l3_power_w, quality';

function toReading(row: StoredReadingRow): EnergyReading {
  const phases = [row.l1_power_w, row.l2_power_w, row.l3_power_w].filter(
    (p): p is number => p !== null,
  );
  return {
    deviceId: row.device_id,
    timeMs: row.ts.getTime(),
    powerW: row.power_w ?? undefined,
    importWh: row.import_wh ?? undefined,
    exportWh: row.export_wh ?? undefined,
    phasePowersW: phases.length > 0 ? phases : undefined,
    quality: row.quality ?? 'good',
  };
}

export interface TimelineStoreOptions {
  readonly reader: QuestDbReader;
  readonly readingsTable: string;
  readonly settings: EnergySettings;
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
 * Each device's recent readings, in memory, bounded. A device seen for the first time by this
 * instance (a fresh start, a partition assigned after a rebalance, or one dropped as least
 * recently used) is rebuilt from the readings already stored in QuestDB, so any instance can take
 * any partition and a restart from any committed offset gives the same figures.
 */
export class DeviceTimelines {
  readonly #options: TimelineStoreOptions;
  readonly #timelines = new Map<string, DeviceTimeline>();

  constructor(options: TimelineStoreOptions) {
    this.#options = options;
  }

  /** Loads, in one query per tenant, every device of the batch that is not in memory. */
  async ensureLoaded(windows: readonly DeviceWindow[]): Promise<void> {
    const missing = windows.filter((w) => !this.#timelines.has(`${w.tenant}/${w.deviceId}`));
    if (missing.length === 0) return;
    const { reader, readingsTable, limits } = this.#options;
    // Rows this or another instance flushed may not be applied yet (QuestDB applies WAL asynchronously).
    await waitForWalApplied(reader, readingsTable);
    const byTenant = Map.groupBy(missing, (w) => w.tenant);
    for (const [tenant, devices] of byTenant) {
      // Everything from the window's start up to the newest stored reading: a timeline must not
      // miss stored readings after the ones it holds, or it would compute intervals across them.
      const fromMs = quarterHourStartMs(
        Math.min(...devices.map((d) => d.fromMs)) - limits.maxAgeMs,
      );

      const ids = devices.map((d) => d.deviceId);
      const placeholders = ids.map((_, i) => `$${i + 3}`).join(', ');
      const rows = await reader.query<StoredReadingRow>(
        `SELECT ${READING_COLUMNS} FROM "${readingsTable}"
         WHERE tenant = $1 AND ts >= $2 AND device_id IN (${placeholders})`,
        [tenant, new Date(fromMs).toISOString(), ...ids],
      );
      // Devices with a reading before the window have a history the window does not hold.
      const older = await reader.query<{ device_id: string }>(
        `SELECT DISTINCT device_id FROM "${readingsTable}"
         WHERE tenant = $1 AND ts < $2 AND device_id IN (${ids.map((_, i) => `$${i + 3}`).join(', ')})`,
        [tenant, new Date(fromMs).toISOString(), ...ids],
      );
      const withOlderHistory = new Set(older.map((row) => row.device_id));
      const byDevice = Map.groupBy(rows, (row) => row.device_id);
      for (const deviceId of ids) {
        const stored = (byDevice.get(deviceId) ?? []).map(toReading);
        const history = withOlderHistory.has(deviceId) ? 'recent' : 'whole';
        this.#remember(
          `${tenant}/${deviceId}`,
          DeviceTimeline.rebuild(deviceId, stored, this.#options.settings, limits, history),
        );
      }
    }
  }

  /**
   * Inserts a reading into its device's timeline (loaded by ensureLoaded, or now if it was
   * dropped meanwhile), or computes it from QuestDB if it is older than the timeline holds.
   */
  async insert(
    tenant: string,
    reading: EnergyReading,
    /** Makes what the batch buffered so far durable, so a read of QuestDB sees it. */
    flushPending: () => Promise<void>,
  ): Promise<Exclude<InsertOutcome, { status: 'before_horizon' }>> {
    const key = `${tenant}/${reading.deviceId}`;
    let timeline = this.#timelines.get(key);
    if (timeline === undefined) {
      await flushPending();
      await this.ensureLoaded([
        { tenant, deviceId: reading.deviceId, fromMs: reading.timeMs, toMs: reading.timeMs },
      ]);
      timeline = this.#timelines.get(key);
      if (timeline === undefined) throw new Error(`timeline of ${key} could not be loaded`);
    }
    this.#remember(key, timeline);
    const outcome = timeline.insert(reading);
    if (outcome.status !== 'before_horizon') return outcome;
    // The late path reads QuestDB, which must first hold the readings buffered so far.
    await flushPending();
    const late = await this.#insertLate(tenant, reading);
    // The timeline in memory did not see this reading; an interval it holds may span it and would
    // later report a bucket without it. Drop it: the device's next reading reloads it from QuestDB.
    this.#timelines.delete(key);
    return late;
  }

  /**
   * A reading older than the device's timeline: its neighbours and the readings around their
   * quarter hours are read from QuestDB into a temporary timeline that holds every interval
   * touching the quarter hours the reading changes. Bounded by the gap around the reading.
   */
  async #insertLate(
    tenant: string,
    reading: EnergyReading,
  ): Promise<Exclude<InsertOutcome, { status: 'before_horizon' }>> {
    const { reader, readingsTable, settings } = this.#options;
    await waitForWalApplied(reader, readingsTable);
    const one = async (condition: string, order: 'ASC' | 'DESC', timeMs: number) =>
      (
        await reader.query<{ ts: Date }>(
          `SELECT ts FROM "${readingsTable}" WHERE tenant = $1 AND device_id = $2 AND ${condition} ORDER BY ts ${order} LIMIT 1`,
          [tenant, reading.deviceId, new Date(timeMs).toISOString()],
        )
      )[0]?.ts.getTime();
    const predecessor = await one('ts < $3', 'DESC', reading.timeMs);
    const successor = await one('ts > $3', 'ASC', reading.timeMs);
    const before =
      predecessor === undefined
        ? undefined
        : await one('ts < $3', 'DESC', quarterHourStartMs(predecessor));
    const after =
      successor === undefined
        ? undefined
        : await one('ts >= $3', 'ASC', quarterHourStartMs(successor) + QUARTER_HOUR_MS);
    // Without a reading before the predecessor's quarter hour, that quarter hour starts the
    // device's history: load all of it, not just from the predecessor on.
    const fromMs = before ?? quarterHourStartMs(predecessor ?? reading.timeMs);
    const toMs =
      after ??
      (successor === undefined ? reading.timeMs : quarterHourStartMs(successor) + QUARTER_HOUR_MS);
    const rows = await reader.query<StoredReadingRow>(
      `SELECT ${READING_COLUMNS} FROM "${readingsTable}" WHERE tenant = $1 AND device_id = $2 AND ts >= $3 AND ts <= $4`,
      [tenant, reading.deviceId, new Date(fromMs).toISOString(), new Date(toMs).toISOString()],
    );
    const unbounded = { maxReadings: Number.MAX_SAFE_INTEGER, maxAgeMs: Number.MAX_SAFE_INTEGER };
    const history = before === undefined ? 'whole' : 'recent';
    const outcome = DeviceTimeline.rebuild(
      reading.deviceId,
      rows.map(toReading),
      settings,
      unbounded,
      history,
    ).insert(reading);
    if (outcome.status === 'before_horizon')
      throw new Error(
        `late reading of ${tenant}/${reading.deviceId} at ${new Date(reading.timeMs).toISOString()} could not be placed`,
      );
    return outcome;
  }

  #remember(key: string, timeline: DeviceTimeline): void {
    this.#timelines.delete(key);
    this.#timelines.set(key, timeline);
    if (this.#timelines.size > this.#options.maxDevices) {
      const oldest = this.#timelines.keys().next().value;
      if (oldest !== undefined) this.#timelines.delete(oldest);
    }
  }
}
