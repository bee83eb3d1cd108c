import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '@gridstream/config';
import type { Config } from '@gridstream/config';
import { benchApi } from './api.ts';
import { dropRunData, EVERY_RUN, namesOf } from './cleanup.ts';
import { benchEnergy } from './energy.ts';
import { benchRebuild } from './rebuild.ts';

const USAGE = `usage: pnpm bench <name> [options]   (or ./gridstream bench <name> ...)

  energy   load readings into Kafka, run the energy processor, print the committed rate,
           its peak RSS, and the rate of plain ILP writes of the same rows
           --readings N (default 2000000)  --devices N (default 5000)
           --workers N (default 2: processors in worker threads of the one process)
  rebuild  load registrations and readings into Kafka, rebuild the devices projection from
           them and print events/s, then replay them to NDJSON and print events/s
           --events N (default 1000000)  --devices N (default 5000)
  api      start the API as its own process, then post readings in batches through
           POST /v1/readings from several clients and print readings/s, alone and with the
           main queries beside it, and p50/p99 of the queries alone, beside that load and
           beside a paced load
           --seconds N (per phase, default 30)  --clients N (default 8)  --batch N (default 1000)
           --devices N (default 5000)  --query-clients N (default 4)
           --paced N (readings/s of the paced phase; default half the full-speed rate)
           --profile DIR (the API writes a V8 CPU profile there; its summary is printed)

  clean    remove what earlier runs left (every bench-* topic, bench_* table, view and
           database), e.g. after a run was interrupted

Each run uses fresh topics, tables and a database (a random prefix) on the running stack, and
removes them when it ends; --keep leaves them for a look afterwards.`;

export async function runBench(argv: readonly string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      readings: { type: 'string', default: '2000000' },
      events: { type: 'string', default: '1000000' },
      devices: { type: 'string', default: '5000' },
      workers: { type: 'string', default: '2' },
      seconds: { type: 'string', default: '30' },
      clients: { type: 'string', default: '8' },
      batch: { type: 'string', default: '1000' },
      'query-clients': { type: 'string', default: '4' },
      paced: { type: 'string' },
      profile: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const run = randomBytes(3).toString('hex');
  const config = loadConfigOrExit({
    ...process.env,
    GS_TOPIC_PREFIX: `bench-${run}.`,
    GS_QDB_TABLE_PREFIX: `bench_${run}_`,
    GS_MONGO_DB: `bench_${run}`,
  });
  if (positionals[0] === 'clean') {
    const dropped = await dropRunData(config, EVERY_RUN);
    log(
      `bench clean: dropped ${dropped.topics} topics, ${dropped.tables} tables and views, ${dropped.databases} databases`,
    );
    return;
  }
  if (!['energy', 'rebuild', 'api'].includes(positionals[0] ?? '')) {
    process.stderr.write(`${USAGE}\n`);
    process.exitCode = 64;
    return;
  }
  try {
    await runOne(positionals[0] ?? '', config, values, log);
  } finally {
    if (values.keep)
      log(
        `  kept: topics ${config.GS_TOPIC_PREFIX}*, tables ${config.GS_QDB_TABLE_PREFIX}*, database ${config.GS_MONGO_DB}`,
      );
    else await dropRunData(config, namesOf(config));
  }
}

async function runOne(
  name: string,
  config: Config,
  values: Record<string, string | boolean | undefined>,
  log: (line: string) => void,
): Promise<void> {
  switch (name) {
    case 'energy':
      await benchEnergy(config, {
        readings: Number(values.readings),
        devices: Number(values.devices),
        workers: Number(values.workers),
        log,
      });
      return;
    case 'rebuild':
      await benchRebuild(config, {
        events: Number(values.events),
        devices: Number(values.devices),
        log,
      });
      return;
    case 'api':
      await benchApi(config, {
        seconds: Number(values.seconds),
        clients: Number(values.clients),
        batch: Number(values.batch),
        devices: Number(values.devices),
        queryClients: Number(values['query-clients']),
        pacedRate: values.paced === undefined ? undefined : Number(values.paced),
        profileDir: typeof values.profile === 'string' ? resolve(values.profile) : undefined,
        log,
      });
      return;
  }
}

if (import.meta.main) await runBench(process.argv.slice(2));
