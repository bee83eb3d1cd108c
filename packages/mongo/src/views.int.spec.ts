import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { isolatedConfig } from '../../../test/support.ts';
import { connectMongo } from './index.ts';
import type { MongoConnection } from './index.ts';

interface Row {
  _id: string;
  site: string;
  energyWh: number;
}

// deploy/local/ferretdb/patches (views.go): a view with an empty pipeline is an alias of the
// collection it is defined on, as on MongoDB; gridstream names each projection's active build so.
// The stack's FerretDB must have been built with the patch (./gridstream stack start builds it).

let mongo: MongoConnection;
let db: Db;
/** FerretDB tells itself apart in buildInfo; some answers differ from MongoDB's by design. */
let ferretdb: boolean;

const blue: Row[] = [
  { _id: 'a-1', site: 'site-1', energyWh: 10 },
  { _id: 'a-2', site: 'site-1', energyWh: 5 },
  { _id: 'a-3', site: 'site-2', energyWh: 1 },
];
const green: Row[] = [{ _id: 'b-1', site: 'site-9', energyWh: 100 }];

const codeOf = async (work: Promise<unknown>): Promise<unknown> =>
  work.then(
    () => 'no error',
    (error: unknown) => (error as { code?: unknown }).code,
  );

beforeAll(async () => {
  mongo = await connectMongo(isolatedConfig());
  db = mongo.db;
  ferretdb = 'ferretdbVersion' in (await db.admin().command({ buildInfo: 1 }));
  await db.collection<Row>('energy_blue').insertMany(blue);
  await db.collection<Row>('energy_green').insertMany(green);
});

afterAll(async () => {
  await db.dropDatabase();
  await mongo.close();
});

describe('a view without a pipeline on the real server', () => {
  const view = () => db.collection<Row>('energy');

  it('reads the collection it is defined on: find, count, distinct, aggregate', async () => {
    // given a view on the blue collection
    await db.command({ create: 'energy', viewOn: 'energy_blue', pipeline: [] });
    // then each read through it answers as the collection does
    expect(await view().find({ site: 'site-1' }).sort({ _id: 1 }).toArray()).toEqual(
      blue.slice(0, 2),
    );
    expect(await view().countDocuments({ energyWh: { $gte: 5 } })).toBe(2);
    expect(await db.command({ count: 'energy' })).toMatchObject({ n: 3 });
    expect((await view().distinct('site')).sort()).toEqual(['site-1', 'site-2']);
    expect(
      await view()
        .aggregate([
          { $group: { _id: '$site', energyWh: { $sum: '$energyWh' } } },
          { $sort: { _id: 1 } },
        ])
        .toArray(),
    ).toEqual([
      { _id: 'site-1', energyWh: 15 },
      { _id: 'site-2', energyWh: 1 },
    ]);
    // and a cursor over it is continued under the view's name (getMore)
    expect(await view().find({}, { batchSize: 1 }).sort({ _id: 1 }).toArray()).toEqual(blue);
  });

  it('is listed as a view on its collection', async () => {
    const [listed] = await db.listCollections({ name: 'energy' }).toArray();
    expect(listed).toMatchObject({
      name: 'energy',
      type: 'view',
      options: { viewOn: 'energy_blue', pipeline: [] },
    });
    const collections = await db
      .listCollections({ type: 'collection' }, { nameOnly: true })
      .toArray();
    expect(collections.map((c) => c.name)).not.toContain('energy');
    // (MongoDB lists its system.views among the collections; the patched FerretDB keeps it out)
    if (ferretdb)
      expect(collections.map((c) => c.name).sort()).toEqual(['energy_blue', 'energy_green']);
  });

  it('refuses writes and index commands, and creates no collection under its name', async () => {
    expect(await codeOf(view().insertOne({ _id: 'x', site: 'site-3', energyWh: 1 }))).toBe(166);
    expect(
      await codeOf(view().updateOne({ _id: 'a-1' }, { $set: { energyWh: 0 } }, { upsert: true })),
    ).toBe(166);
    expect(await codeOf(view().deleteMany({}))).toBe(166);
    expect(await codeOf(view().findOneAndUpdate({ _id: 'a-1' }, { $set: { energyWh: 0 } }))).toBe(
      166,
    );
    expect(await codeOf(view().createIndex({ site: 1 }))).toBe(166);
    // and nothing changed: the view still reads the blue collection, whole
    expect(await view().find().sort({ _id: 1 }).toArray()).toEqual(blue);
    expect(await db.listCollections({ name: 'energy' }).toArray()).toMatchObject([
      { type: 'view' },
    ]);
  });

  it('keeps a taken name: no second view, no collection over it, no view over a collection', async () => {
    expect(
      await codeOf(db.command({ create: 'energy', viewOn: 'energy_green', pipeline: [] })),
    ).toBe(48);
    expect(await codeOf(db.createCollection('energy'))).toBe(48);
    expect(
      await codeOf(db.command({ create: 'energy_blue', viewOn: 'energy_green', pipeline: [] })),
    ).toBe(48);
    expect(await view().countDocuments()).toBe(3);
  });

  it('refuses a pipeline it cannot run (FerretDB) or runs it (MongoDB)', async () => {
    const defined = db.command({
      create: 'energy_site_1',
      viewOn: 'energy_blue',
      pipeline: [{ $match: { site: 'site-1' } }],
    });
    if (ferretdb) {
      expect(await codeOf(defined)).toBe(238);
      expect(await db.listCollections({ name: 'energy_site_1' }).toArray()).toEqual([]);
    } else {
      await defined;
      expect(await db.collection('energy_site_1').countDocuments()).toBe(2);
      await db.collection('energy_site_1').drop();
    }
  });

  it('is re-pointed by collMod: the same name reads the other collection at once', async () => {
    // when the view is re-pointed at the green collection
    await db.command({ collMod: 'energy', viewOn: 'energy_green', pipeline: [] });
    // then reads through it see the green collection, and the listing says so
    expect(await view().find().toArray()).toEqual(green);
    expect(await view().countDocuments()).toBe(1);
    expect(await db.listCollections({ name: 'energy' }).toArray()).toMatchObject([
      { type: 'view', options: { viewOn: 'energy_green' } },
    ]);
  });

  it('is dropped alone: the collection it read stays whole', async () => {
    // given the view, on the green collection
    expect(await db.listCollections({ name: 'energy' }).toArray()).toMatchObject([
      { type: 'view' },
    ]);
    // when it is dropped
    expect(await view().drop()).toBe(true);
    // then it is gone, and the collections are as they were
    expect(await db.listCollections({ name: 'energy' }).toArray()).toEqual([]);
    expect(await db.collection('energy_green').find().toArray()).toEqual(green);
    expect(await db.collection('energy_blue').countDocuments()).toBe(3);
    // and the name is free again, for a collection too
    await db.createCollection('energy');
    expect(await db.listCollections({ name: 'energy' }).toArray()).toMatchObject([
      { type: 'collection' },
    ]);
  });
});
