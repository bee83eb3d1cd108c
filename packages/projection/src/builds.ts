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

/** MongoDB's NamespaceExists: a collection or view of that name exists. */
const NAMESPACE_EXISTS = 48;

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

/**
 * The name an analyst reads a projection by (`db.devices.find()`): a view with an empty
 * pipeline, an alias of the active build's collection, re-pointed when a rebuild switches
 * builds. Nothing in gridstream reads through it: ProjectionReader goes through the registry,
 * so a server without views (FerretDB unpatched) loses only the alias.
 */
export function stableViewName(projection: string): string {
  return projection;
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

export interface BuildRegistryOptions {
  /** Where a stable name that could not be made or re-pointed is told (once per registry). */
  readonly log?: (line: string) => void;
}

export class BuildRegistry {
  readonly #db: Db;
  readonly #collection: Collection<BuildsDocument>;
  readonly #log: (line: string) => void;
  #stableNamesFailed = false;

  constructor(db: Db, options: BuildRegistryOptions = {}) {
    this.#db = db;
    this.#collection = db.collection<BuildsDocument>(BUILDS_COLLECTION);
    this.#log = options.log ?? (() => undefined);
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
    await this.pointStableName(projection);
    return entry;
  }

  async get(projection: string): Promise<BuildsDocument | null> {
    return this.#collection.findOne({ _id: projection });
  }

  async startBuilding(projection: string, buildId: string): Promise<void> {
    await this.#collection.updateOne({ _id: projection }, { $set: { building: buildId } });
  }

  /**
   * Readers move to `buildId` in this one write; returns the build they leave. The stable name
   * follows right after (before the caller drops the build left).
   */
  async activate(projection: string, buildId: string): Promise<string | undefined> {
    const before = await this.#collection.findOneAndUpdate(
      { _id: projection },
      { $set: { active: buildId }, $unset: { building: '' } },
      { returnDocument: 'before' },
    );
    await this.pointStableName(projection);
    return before?.active;
  }

  /**
   * Points the projection's stable name (stableViewName) at the collection of the build active
   * now, making the view if missing. The active build is read here rather than passed in, so that
   * of an `ensure` and an `activate` racing, the last to point reads the switched registry.
   * Never throws: nothing depends on the view. A server that refuses views, or a collection
   * already holding the name, is logged once and left alone.
   */
  async pointStableName(projection: string): Promise<void> {
    const name = stableViewName(projection);
    try {
      // (two instances creating the view at once: the loser sees it made and checks it)
      for (let attempt = 1; ; attempt++) {
        const active = (await this.get(projection))?.active;
        if (active === undefined) return;
        const viewOn = buildCollectionName(projection, active);
        const [current] = await this.#db.listCollections({ name }, { nameOnly: false }).toArray();
        if (current === undefined) {
          const created = await this.#db
            .command({ create: name, viewOn, pipeline: [] })
            .then(() => true)
            .catch((error: unknown) => {
              if (attempt < 3 && (error as { code?: unknown }).code === NAMESPACE_EXISTS)
                return false;
              throw error;
            });
          if (created) return;
        } else if (current.type !== 'view') {
          throw new Error(`a ${String(current.type)} already has that name; left alone`);
        } else if ((current.options as { viewOn?: unknown }).viewOn !== viewOn) {
          await this.#db.command({ collMod: name, viewOn, pipeline: [] });
          return;
        } else {
          return;
        }
      }
    } catch (error) {
      if (this.#stableNamesFailed) return;
      this.#stableNamesFailed = true;
      this.#log(
        `projection ${projection}: no stable view ${name} (${(error as Error).message}); ` +
          `read the active build's collection through ${BUILDS_COLLECTION} (docs/analysts.md)`,
      );
    }
  }

  async markServed(projection: string, buildId: string): Promise<void> {
    await this.#collection.updateOne({ _id: projection }, { $set: { served: buildId } });
  }
}
