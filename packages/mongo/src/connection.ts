import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';

export interface MongoConnection {
  readonly client: MongoClient;
  readonly db: Db;
  close(): Promise<void>;
}

/** What connectMongo reads of the configuration (@gridstream/config's Config has it all). */
export interface MongoConfig {
  readonly GS_MONGO_URL: string;
  readonly GS_MONGO_DB: string;
  readonly GS_MONGO_USERNAME: string;
  /** None: no login, unless the URL carries one. */
  readonly GS_MONGO_PASSWORD?: string | undefined;
  readonly GS_MONGO_AUTH_SOURCE: string;
}

/**
 * A client with the configured login (SCRAM; docs/security.md), not yet connected. The password
 * is passed as an option, not written into the URL, so the URL can be logged as it is.
 */
export function mongoClient(config: MongoConfig): MongoClient {
  const password = config.GS_MONGO_PASSWORD;
  return new MongoClient(config.GS_MONGO_URL, {
    serverSelectionTimeoutMS: 5_000,
    connectTimeoutMS: 5_000,
    appName: 'gridstream',
    ...(password === undefined
      ? {}
      : {
          auth: { username: config.GS_MONGO_USERNAME, password },
          authSource: config.GS_MONGO_AUTH_SOURCE,
        }),
  });
}

export async function connectMongo(config: MongoConfig): Promise<MongoConnection> {
  const client = mongoClient(config);
  await client.connect();
  return {
    client,
    db: client.db(config.GS_MONGO_DB),
    async close() {
      await client.close();
    },
  };
}
