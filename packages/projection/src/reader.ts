import type { Collection, Db, Document } from 'mongodb';
import type { StoredDocument } from '@gridstream/mongo';
import { BuildRegistry, initialBuildId } from './builds.ts';
import type { ProjectionDefinition } from './definition.ts';
import { buildCollection } from './run-build.ts';

/** How long a reader trusts its knowledge of the active build; rebuilds wait longer than this. */
export const READER_CACHE_MS = 1_000;

/**
 * What readers (the API) use to find a projection's documents: the collection of its active
 * build, looked up in the registry at most once per READER_CACHE_MS. After a rebuild switches
 * builds, readers move within that time; the old build is dropped only later.
 */
export class ProjectionReader<State extends Document> {
  readonly #db: Db;
  readonly #definition: ProjectionDefinition<State>;
  readonly #registry: BuildRegistry;
  #cached: { buildId: string; until: number } | undefined;

  constructor(db: Db, definition: ProjectionDefinition<State>) {
    this.#db = db;
    this.#definition = definition;
    this.#registry = new BuildRegistry(db);
  }

  async collection(nowMs = Date.now()): Promise<Collection<StoredDocument<State>>> {
    if (this.#cached === undefined || nowMs >= this.#cached.until) {
      const entry = await this.#registry.get(this.#definition.name);
      const buildId = entry?.active ?? initialBuildId(this.#definition.version);
      this.#cached = { buildId, until: nowMs + READER_CACHE_MS };
    }
    return buildCollection(this.#db, this.#definition, this.#cached.buildId);
  }
}
