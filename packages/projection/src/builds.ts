import type { Part } from '@gridstream/kafka';
import type { Collection, Db } from 'mongodb';

/**
 * A build is one materialisation of a projection: its own collection and its own consumer
 * group. The live build is the one readers read; a rebuild makes a new build beside it and
 * switches readers over in one write to this registry when the new build has caught up.
 */
export interface BuildsDocument {
  /** The projection's name. */
  readonly _id: string;
  /** The build readers read. */
  readonly active: string;
  /** A rebuild in progress (resumed if its process died). */
  readonly building?: string;
  /** The build the live projection service is running now. */
  readonly served?: string;
}

export const BUILDS_COLLECTION = 'projection_builds';

/** The first build of a version: its names are those of a plain `<name>_v<version>` projection. */
export function initialBuildId(version: number): string {
  return `v${version}`;
}

/** A rebuild's id: version and start time, so builds sort by age and say what they are. */
export function rebuildId(version: number, startedAt: Date): string {
  const stamp = startedAt.toISOString().replace(/\D/g, '').slice(0, 14);
  return `v${version}-${stamp}`;
}

export function buildCollectionName(projection: string, buildId: string): string {
  return `${projection}_${buildId}`;
}

export function buildGroupId(topicPrefix: string, projection: string, buildId: string): string {
  return `${topicPrefix}projection.${projection}.${buildId}`;
}

/**
 * The consumer group of one part of a build folded in parts (rebuildProjection): the part's
 * checkpoints. The build's own group gets their offsets when the parts are done.
 */
export function partGroupId(buildGroup: string, part: Part): string {
  return `${buildGroup}.part-${part.index}-of-${part.count}`;
}

export class BuildRegistry {
  readonly #collection: Collection<BuildsDocument>;

  constructor(db: Db) {
    this.#collection = db.collection<BuildsDocument>(BUILDS_COLLECTION);
  }

  /** The registry entry, created with the version's initial build as active if missing. */
  async ensure(projection: string, version: number): Promise<BuildsDocument> {
    const upsert = () =>
      this.#collection.findOneAndUpdate(
        { _id: projection },
        { $setOnInsert: { active: initialBuildId(version) } },
        { upsert: true, returnDocument: 'after' },
      );
    // Instances starting together race to create the entry; the loser's upsert fails on the key
    // (FerretDB does not retry it as MongoDB does) and finds the winner's entry when tried again.
    const entry = await upsert().catch((error: unknown) => {
      if ((error as { code?: unknown }).code === 11000) return upsert();
      throw error;
    });
    if (entry === null) throw new Error(`projection registry entry ${projection} not written`);
    return entry;
  }

  async get(projection: string): Promise<BuildsDocument | null> {
    return this.#collection.findOne({ _id: projection });
  }

  async startBuilding(projection: string, buildId: string): Promise<void> {
    await this.#collection.updateOne({ _id: projection }, { $set: { building: buildId } });
  }

  /** Readers move to `buildId` in this one write; returns the build they leave. */
  async activate(projection: string, buildId: string): Promise<string | undefined> {
    const before = await this.#collection.findOneAndUpdate(
      { _id: projection },
      { $set: { active: buildId }, $unset: { building: '' } },
      { returnDocument: 'before' },
    );
    return before?.active;
  }

  async markServed(projection: string, buildId: string): Promise<void> {
    await this.#collection.updateOne({ _id: projection }, { $set: { served: buildId } });
  }
}
