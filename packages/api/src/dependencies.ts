import type { CommandBus } from '@gridstream/commands';
import type { KafkaObservation, LetterFilter, LetterScan, StoredLetter } from '@gridstream/kafka';
import type { ProjectionReader } from '@gridstream/projection';
import type { AlertView } from '@gridstream/projection-alerts';
import type { CommandView } from '@gridstream/projection-commands';
import type { DeviceView, SiteView } from '@gridstream/projection-devices';
import type { SiteDayView } from '@gridstream/projection-site-energy';
import type { EnergyTables, QuestDbReader } from '@gridstream/questdb';
import type { RegistryWriteSide } from '@gridstream/registry';
import type { ApiKeyStore } from './auth/api-keys.ts';
import type { ReadingIngest } from './ingest/ingest.ts';
import type { LatestReadings } from './live/latest-readings.ts';
import type { LiveFeed } from './live/live-feed.ts';
import type { SiteCostDays } from './routes/cost-days.ts';

/** Everything the API touches, passed in so tests can wire real servers with unique names. */
export interface ApiDependencies {
  /** The API keys: each request's key names its tenant and scopes. */
  readonly apiKeys: ApiKeyStore;
  readonly limits: {
    /** Requests one key may make per minute; more are answered 429 RATE_LIMITED. */
    readonly requestsPerMinutePerKey: number;
    /** POST /v1/readings batches held at once; more are answered 503 OVERLOADED, unread. */
    readonly ingestMaxInFlight: number;
  };
  /** Where POST /v1/readings hands its bodies (an ingest worker thread, or this thread). */
  readonly ingest: ReadingIngest;
  /** Recent readings, command updates and alerts, for GET /v1/stream. */
  readonly live: LiveFeed;
  /** The newest reading of each device seen on the readings topic, folded into device views. */
  readonly latestReadings: LatestReadings;
  /** The devices read model, in whichever build is active (rebuilds switch it). */
  readonly devices: ProjectionReader<DeviceView>;
  /** The sites read model. */
  readonly sites: ProjectionReader<SiteView>;
  /** Where registry commands go (packages/registry: the write side's facts, decide, publish). */
  readonly registryBus: RegistryWriteSide['commandBus'];
  /** The site-energy read model (per site and local day). */
  readonly siteEnergy: ProjectionReader<SiteDayView>;
  /** The cost processor's days per site (cost, earnings, emissions). */
  readonly siteCostDays: SiteCostDays;
  /** The alerts read model (one document per alert). */
  readonly alerts: ProjectionReader<AlertView>;
  /** The commands read model (one document per command, with its timeline). */
  readonly commands: ProjectionReader<CommandView>;
  /** Where command requests and cancellations go (packages/commands: decide, then publish). */
  readonly commandBus: CommandBus;
  readonly questdb: QuestDbReader;
  readonly readingsTable: string;
  /** The energy processor's tables: 15-minute rows per device and the per-site view. */
  readonly energyTables: EnergyTables;
  /** The archive of every event that is not a reading (processors/archive). */
  readonly eventsTable: string;
  readonly now: () => Date;
  /** A device without a reading for longer than this is offline. */
  readonly offlineAfterMs: number;
  /** Each backing service and whether it answered; used by /readyz. */
  readonly checkReadiness: () => Promise<Record<string, boolean>>;
  /** The DLQ's letters that pass a filter (findLetters on the deployment's DLQ topic). */
  readonly deadLetters: (
    filter: LetterFilter,
    options: { readonly keepBytes: boolean },
  ) => Promise<LetterScan>;
  /** One letter by its id, with its redrive (findLetterById: its partition, from it on). */
  readonly deadLetter: (id: string) => Promise<StoredLetter | undefined>;
  /** The consumer groups' lag and the DLQ's size, for /metrics. */
  readonly observeKafka: () => Promise<KafkaObservation>;
}
