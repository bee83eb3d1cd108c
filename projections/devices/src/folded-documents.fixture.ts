import { expect } from 'vitest';
import type { Config } from '@gridstream/config';
import type { GridstreamEvent } from '@gridstream/events';
import { connectMongo } from '@gridstream/mongo';
import { ProjectionReader } from '@gridstream/projection';
import { evolveDevice } from './evolve.ts';
import type { DeviceView } from './evolve.ts';
import { deviceDocumentId, devicesProjection } from './store.ts';

/** Checks that the active build holds every device as the fold of its events, each once, in order. */
export async function expectDocumentsFolded(
  config: Config,
  history: readonly GridstreamEvent[],
): Promise<void> {
  const expected = new Map<string, DeviceView | null>();
  for (const event of history) {
    const id = deviceDocumentId(event.tenant, event.subject);
    expected.set(id, evolveDevice(expected.get(id) ?? null, event));
  }
  const mongo = await connectMongo(config);
  try {
    const collection = await new ProjectionReader(mongo.db, devicesProjection).collection();
    const stored = await collection.find({}).toArray();
    expect(new Map(stored.map((d) => [d._id, d.state]))).toEqual(expected);
  } finally {
    await mongo.close();
  }
}
