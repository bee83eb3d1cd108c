// How long each store keeps what: every retention of gridstream, with its environment variable
// and default, in one place. docs/data-lifecycle.md explains each choice and what a replay can
// still reach; retention.unit.spec.ts holds that document to these names and defaults.
import { z } from 'zod';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Kafka's retention.ms for "keep for ever". */
export const UNLIMITED_RETENTION_MS = -1;

/**
 * Kafka's retention.ms per topic role (the roles of @gridstream/kafka's TOPIC_ROLES). The log is
 * the system of record that analysts replay and projections rebuild from, so every topic a
 * consumer folds from the start is kept for ever. Two are not history: the gateway topic carries
 * dispatches to devices and their raw reports, which the command processor turns into events on
 * the commands topic within a command's lifetime (GS_COMMAND_MAX_TTL_MS, a day at most), and
 * the dead-letter topic holds copies of messages whose originals stay on their own topic.
 */
export const DEFAULT_TOPIC_RETENTION_MS = {
  readings: UNLIMITED_RETENTION_MS,
  devices: UNLIMITED_RETENTION_MS,
  commands: UNLIMITED_RETENTION_MS,
  alerts: UNLIMITED_RETENTION_MS,
  energy: UNLIMITED_RETENTION_MS,
  /** Day-ahead prices and carbon intensity: what every cost figure was priced with. */
  market: UNLIMITED_RETENTION_MS,
  gateway: 7 * DAY_MS,
  dlq: 30 * DAY_MS,
} as const;

export type TopicRetentionRole = keyof typeof DEFAULT_TOPIC_RETENTION_MS;

/**
 * QuestDB TTLs, in the unit of each table's partitions (a TTL must be a whole number of them;
 * 0 keeps everything). Raw readings are the bulk of the data and are replayable from Kafka; the
 * energy figures are small (a row per device and quarter hour) and are the answers dashboards
 * and bills are made of; the events archive is small and is the history in SQL.
 */
export const DEFAULT_QUESTDB_TTL = {
  /** `readings` (PARTITION BY DAY): 90 days of raw readings for charts and series. */
  readingsDays: 90,
  /** `device_energy_15m` and the `site_energy_15m` view over it (PARTITION BY DAY): kept. */
  energyDays: 0,
  /** `events` (PARTITION BY MONTH): kept. */
  eventsMonths: 0,
} as const;

/**
 * Idempotency-Key records in MongoDB. Not settings: each is part of a contract, not a disk
 * budget. A reading batch's key answers its first answer for 24 hours (docs/api.md, as Stripe
 * keeps keys), then goes (a TTL index on MongoDB; FerretDB 1.24 has none, so the API sweeps).
 * A command's key is its identity (the command id is a UUIDv5 of tenant and key), so it is kept
 * as long as the command is, for ever: expiring it would let the same key name another request's
 * command with the old command's id. A registry request's key is kept as the registry's facts
 * are, which its answer is made of; both grow with changes to the fleet, not with its traffic.
 */
export const IDEMPOTENCY_KEY_RETENTION_MS = {
  readings: DAY_MS,
  commands: UNLIMITED_RETENTION_MS,
  registry: UNLIMITED_RETENTION_MS,
} as const;

const topicRetentionMs = (fallback: number) =>
  z.coerce
    .number()
    .int()
    .refine(
      (ms) => ms === UNLIMITED_RETENTION_MS || ms >= HOUR_MS,
      'milliseconds, an hour (3600000) or more, or -1 to keep for ever',
    )
    .default(fallback);

const ttlCount = (fallback: number, max: number) =>
  z.coerce.number().int().min(0, '0 (kept) or more').max(max).default(fallback);

/** The retention settings, part of @gridstream/config's schema. */
export const RETENTION_SETTINGS = {
  GS_RETENTION_READINGS_TOPIC_MS: topicRetentionMs(DEFAULT_TOPIC_RETENTION_MS.readings),
  GS_RETENTION_DEVICES_TOPIC_MS: topicRetentionMs(DEFAULT_TOPIC_RETENTION_MS.devices),
  GS_RETENTION_COMMANDS_TOPIC_MS: topicRetentionMs(DEFAULT_TOPIC_RETENTION_MS.commands),
  GS_RETENTION_ALERTS_TOPIC_MS: topicRetentionMs(DEFAULT_TOPIC_RETENTION_MS.alerts),
  GS_RETENTION_ENERGY_TOPIC_MS: topicRetentionMs(DEFAULT_TOPIC_RETENTION_MS.energy),
  GS_RETENTION_MARKET_TOPIC_MS: topicRetentionMs(DEFAULT_TOPIC_RETENTION_MS.market),
  GS_RETENTION_GATEWAY_TOPIC_MS: topicRetentionMs(DEFAULT_TOPIC_RETENTION_MS.gateway),
  GS_RETENTION_DLQ_TOPIC_MS: topicRetentionMs(DEFAULT_TOPIC_RETENTION_MS.dlq),
  GS_RETENTION_READINGS_TABLE_DAYS: ttlCount(DEFAULT_QUESTDB_TTL.readingsDays, 100 * 366),
  GS_RETENTION_ENERGY_TABLES_DAYS: ttlCount(DEFAULT_QUESTDB_TTL.energyDays, 100 * 366),
  GS_RETENTION_EVENTS_TABLE_MONTHS: ttlCount(DEFAULT_QUESTDB_TTL.eventsMonths, 100 * 12),
};

type RetentionConfig = z.infer<z.ZodObject<typeof RETENTION_SETTINGS>>;

const days = (count: number) => (count === 0 ? 'for ever (0)' : `${count} days`);

/**
 * What the retention settings get wrong together, one line each (loadConfig refuses them). The
 * energy figures are made from the raw readings, are a small fraction of their size, and are what
 * dashboards, sites' days and bills show: kept for less time than the readings (0 is for ever),
 * history would vanish from those answers while its bulk stayed on disk (data-lifecycle.md).
 */
export function retentionProblems(config: RetentionConfig): string[] {
  const readings = config.GS_RETENTION_READINGS_TABLE_DAYS;
  const energy = config.GS_RETENTION_ENERGY_TABLES_DAYS;
  if (energy === 0 || (readings !== 0 && energy >= readings)) return [];
  return [
    `GS_RETENTION_ENERGY_TABLES_DAYS: ${days(energy)} would keep the energy figures for less ` +
      `time than the raw readings they are made from (GS_RETENTION_READINGS_TABLE_DAYS: ` +
      `${days(readings)}); set it to 0 (for ever)` +
      (readings === 0 ? '' : ` or to ${readings} or more`) +
      ', or shorten GS_RETENTION_READINGS_TABLE_DAYS',
  ];
}

/** retention.ms per topic role, as @gridstream/kafka's ensureTopics takes it. */
export function topicRetention(
  config: RetentionConfig,
): Readonly<Record<TopicRetentionRole, number>> {
  return {
    readings: config.GS_RETENTION_READINGS_TOPIC_MS,
    devices: config.GS_RETENTION_DEVICES_TOPIC_MS,
    commands: config.GS_RETENTION_COMMANDS_TOPIC_MS,
    alerts: config.GS_RETENTION_ALERTS_TOPIC_MS,
    energy: config.GS_RETENTION_ENERGY_TOPIC_MS,
    market: config.GS_RETENTION_MARKET_TOPIC_MS,
    gateway: config.GS_RETENTION_GATEWAY_TOPIC_MS,
    dlq: config.GS_RETENTION_DLQ_TOPIC_MS,
  };
}

/** The QuestDB TTLs, as @gridstream/questdb's applyTableTtl takes them. */
export function questDbRetention(config: RetentionConfig): {
  readonly readings: { readonly count: number; readonly unit: 'DAYS' };
  readonly energy: { readonly count: number; readonly unit: 'DAYS' };
  readonly events: { readonly count: number; readonly unit: 'MONTHS' };
} {
  return {
    readings: { count: config.GS_RETENTION_READINGS_TABLE_DAYS, unit: 'DAYS' },
    energy: { count: config.GS_RETENTION_ENERGY_TABLES_DAYS, unit: 'DAYS' },
    events: { count: config.GS_RETENTION_EVENTS_TABLE_MONTHS, unit: 'MONTHS' },
  };
}
