import { MongoClient } from 'mongodb';
import type { Db } from 'mongodb';

export interface MongoConnection {
  readonly client: MongoClient;
  readonly db: Db;
  close(): Promise<void>;
}

export async function connectMongo(url: string, dbName: string): Promise<MongoConnection> {
  const client = new MongoClient(url, {
    serverSelectionTimeoutMS: 5_000,
    connectTimeoutMS: 5_000,
    appName: 'gridstream',
  });
  await client.connect();
  return {
    client,
    db: client.db(dbName),
    async close() {
      await client.close();
    },
  };
}
