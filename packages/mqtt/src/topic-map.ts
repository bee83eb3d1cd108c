import type { Collection, Db } from 'mongodb';
import type { ChannelMapping } from './formats/index.ts';

/** Device formats whose topics name a device of their own, mapped to gridstream devices. */
export type MappedFormat = 'shelly' | 'tasmota';

/**
 * One channel of a device that publishes in its own format, and the gridstream device it
 * measures: a Shelly Plus 2PM's `switch:1` under `gridstream/acme/shelly/hall` is device `hall-2`.
 */
export interface TopicMapping {
  readonly tenant: string;
  /** The device's topic root: `gridstream/<tenant>/shelly/<name>` or `…/tasmota/<topic>`. */
  readonly root: string;
  readonly format: MappedFormat;
  readonly channel: number;
  readonly deviceId: string;
  /** The zone of a device clock that sends local times without an offset (Tasmota). */
  readonly timeZone?: string;
}

interface MappingDocument extends TopicMapping {
  readonly _id: string;
  readonly updatedAt: Date;
}

const COLLECTION = 'mqtt_topics';

const idOf = (m: Pick<TopicMapping, 'root' | 'channel'>) => `${m.root}#${m.channel}`;

/** The tenant the root belongs to: the ACLs let only its accounts publish under it. */
export function rootTenant(root: string): string | undefined {
  const [prefix, tenant] = root.split('/');
  return prefix === 'gridstream' && tenant !== undefined && tenant !== '' ? tenant : undefined;
}

/** The per-tenant table of MQTT topics to devices, in MongoDB (`mqtt_topics`). */
export class TopicMappings {
  private readonly collection: Collection<MappingDocument>;

  private constructor(collection: Collection<MappingDocument>) {
    this.collection = collection;
  }

  static open(db: Db): TopicMappings {
    return new TopicMappings(db.collection<MappingDocument>(COLLECTION));
  }

  async put(mapping: TopicMapping): Promise<void> {
    if (rootTenant(mapping.root) !== mapping.tenant)
      throw new RangeError(
        `topic root ${mapping.root} is not under gridstream/${mapping.tenant}/: the tenant's accounts cannot publish there`,
      );
    const { timeZone, ...rest } = mapping;
    await this.collection.replaceOne(
      { _id: idOf(mapping) },
      { ...rest, ...(timeZone === undefined ? {} : { timeZone }), updatedAt: new Date() },
      { upsert: true },
    );
  }

  async remove(tenant: string, root: string, channel: number): Promise<boolean> {
    const result = await this.collection.deleteOne({ _id: idOf({ root, channel }), tenant });
    return result.deletedCount === 1;
  }

  async list(tenant?: string): Promise<TopicMapping[]> {
    const documents = await this.collection
      .find(tenant === undefined ? {} : { tenant }, { projection: { _id: 0, updatedAt: 0 } })
      .toArray();
    return documents
      .map((document) => document as TopicMapping)
      .sort((a, b) => a.root.localeCompare(b.root) || a.channel - b.channel);
  }
}

/**
 * What the bridge looks mappings up in: all of them in memory, read again every `refreshMs`, and
 * at once (at most every `missRefreshMs`) when a root is not found, so a device mapped a moment
 * ago is found without waiting for the next refresh and an unmapped one does not make every
 * message a query.
 */
export class MappingCache {
  private byRoot = new Map<string, ChannelMapping[]>();
  private loadedAtMs = 0;
  private loading: Promise<void> | undefined;

  private readonly mappings: TopicMappings;
  private readonly refreshMs: number;
  private readonly missRefreshMs: number;
  private readonly now: () => number;

  constructor(
    mappings: TopicMappings,
    refreshMs = 10_000,
    missRefreshMs = 2_000,
    now: () => number = Date.now,
  ) {
    this.mappings = mappings;
    this.refreshMs = refreshMs;
    this.missRefreshMs = missRefreshMs;
    this.now = now;
  }

  private load(): Promise<void> {
    this.loading ??= this.mappings
      .list()
      .then((all) => {
        const byRoot = new Map<string, ChannelMapping[]>();
        for (const { root, channel, deviceId, timeZone } of all) {
          let channels = byRoot.get(root);
          if (channels === undefined) byRoot.set(root, (channels = []));
          channels.push(
            timeZone === undefined ? { channel, deviceId } : { channel, deviceId, timeZone },
          );
        }
        this.byRoot = byRoot;
        this.loadedAtMs = this.now();
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }

  /** The channels mapped under a root; empty when none is. */
  async lookup(root: string): Promise<readonly ChannelMapping[]> {
    if (this.loadedAtMs === 0) await this.load();
    // Read again in the background: messages go on with what is known meanwhile.
    else if (this.now() - this.loadedAtMs >= this.refreshMs) this.load().catch(() => undefined);
    const found = this.byRoot.get(root);
    if (found !== undefined) return found;
    if (this.now() - this.loadedAtMs >= this.missRefreshMs) await this.load();
    return this.byRoot.get(root) ?? [];
  }
}
