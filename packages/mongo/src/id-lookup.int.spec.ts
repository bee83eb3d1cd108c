import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ObjectId } from 'mongodb';
import type { Collection, Filter } from 'mongodb';
import { isolatedConfig } from '../../../test/support.ts';
import { connectMongo } from './index.ts';
import type { MongoConnection } from './index.ts';

type Id = string | number | ObjectId;
interface Doc {
  _id: Id;
  n: number;
}

let mongo: MongoConnection;
let collection: Collection<Doc>;
const objectId = new ObjectId();

beforeAll(async () => {
  mongo = await connectMongo(isolatedConfig());
  collection = mongo.db.collection<Doc>('lookups');
  await collection.insertMany([
    ...Array.from({ length: 50 }, (_, n) => ({ _id: `d-${n}`, n })),
    { _id: 7, n: 100 },
    { _id: '7', n: 101 },
    { _id: objectId, n: 102 },
  ]);
});

afterAll(async () => {
  await mongo.db.dropDatabase();
  await mongo.close();
});

const ns = async (filter: Filter<Doc>) =>
  (await collection.find(filter).toArray()).map((d) => d.n).sort((a, b) => a - b);

// deploy/local/ferretdb/patches: FerretDB looks up {_id: {$in: [...]}} through the _id index
// (upstream scanned the table). The rows it returns must be exactly MongoDB's answer.
describe('_id lookups on the real server', () => {
  it('finds the documents of an $in list of ids, each once, whatever repeats or is missing', async () => {
    expect(await ns({ _id: { $in: ['d-3', 'd-1', 'd-3', 'nobody', 'd-49'] } })).toEqual([1, 3, 49]);
  });

  it('tells a string id from a number id, and finds ObjectIds', async () => {
    expect(await ns({ _id: { $in: ['7'] } })).toEqual([101]);
    expect(await ns({ _id: { $in: [7] } })).toEqual([100]);
    expect(await ns({ _id: { $in: [7, '7', objectId] } })).toEqual([100, 101, 102]);
    expect(await ns({ _id: { $in: [objectId, 'd-0'] } })).toEqual([0, 102]);
  });

  it('applies the rest of the filter beside the list', async () => {
    expect(await ns({ _id: { $in: ['d-1', 'd-2', 'd-3'] }, n: { $gte: 2 } })).toEqual([2, 3]);
    expect(await ns({ _id: { $in: ['d-1', 'd-2', 'd-3'], $ne: 'd-2' } })).toEqual([1, 3]);
    expect(await ns({ _id: { $in: [] } })).toEqual([]);
  });

  it('guards a replace by _id and version as before', async () => {
    const result = await collection.replaceOne({ _id: 'd-5', n: 6 }, { n: 500 });
    expect(result.matchedCount).toBe(0);
    const matched = await collection.replaceOne({ _id: 'd-5', n: 5 }, { n: 500 });
    expect(matched.matchedCount).toBe(1);
    expect(await ns({ _id: { $in: ['d-5'] } })).toEqual([500]);
  });
});
