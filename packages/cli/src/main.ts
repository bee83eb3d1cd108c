import { spawn } from 'node:child_process';
import { parseArgs } from 'node:util';
import { v7 as uuidv7 } from 'uuid';
import { DASHBOARD_PATH } from '@gridstream/api';
import { loadConfigOrExit, topicRetention } from '@gridstream/config';
import type { Config } from '@gridstream/config';
import { catalogueJsonSchema } from '@gridstream/events';
import { EventType } from '@gridstream/events';
import {
  createEventPublisher,
  createKafka,
  kafkaSettings,
  createTopicsIfMissing,
  runEventConsumer,
  topicNames,
} from '@gridstream/kafka';
import {
  createCommandResponder,
  demoCarbonDays,
  demoCarbonPublications,
  runFleet,
  seededRandom,
} from '@gridstream/simulator';
import type { DispatchedEvent } from '@gridstream/simulator';
import { isProjectionName, PROJECTIONS, rebuild } from './rebuild.ts';
import { dropRunData, EVERY_RUN, EVERY_TEST, findRunData } from './bench/cleanup.ts';
import { printDeviceState } from './state.ts';
import { REPLAY_USAGE, replayCommand } from './replay/replay-command.ts';
import { createApiKey, KEYS_USAGE, keysCommand } from './keys.ts';
import { mqttSettings } from '@gridstream/mqtt';
import { startMqttDemo } from './mqtt-demo.ts';
import { MQTT_KEYS_USAGE, MQTT_USAGE, mqttCommand, mqttKeysCommand } from './mqtt-cli.ts';
import { REGISTRY_USAGE, registryCommand } from './registry-cli.ts';
import { DLQ_USAGE, dlqCommand } from './dlq-cli.ts';
import { CARBON_USAGE, marketImportCommand, PRICES_USAGE } from './market-import-cli.ts';
import { carbonEvent } from './market-import-publications.ts';

/** The CloudEvents source of the demo fleet's made-up carbon series. */
const DEMO_CARBON_SOURCE = '/simulator/demo-carbon';
import {
  RUN_USAGE,
  serviceArgv,
  serviceEnv,
  serviceNamed,
  SERVICES,
  waitUntilReady,
} from './services.ts';
import { ServiceSupervisor } from './supervisor.ts';

const USAGE = `usage: gridstream <command> [options]

commands:
  up         start the energy, alerts and commands processors, the projections (devices, site
             energy, alerts, commands), the event archive, the API and a fleet that answers commands;
             a service that crashes is started again, the others go on
  run S      run one service S in the foreground, as systemd or Kubernetes would (run --help)
  simulate   run only a simulated fleet against a running API
  schema     print the JSON Schema of the event catalogue
  replay     write the events of a time range, filtered, as NDJSON or CSV (replay --help)
  state D    device D's state as of --at TIME (default now), folded from its events (--tenant)
  rebuild P  build projection P (devices, sites, site-energy, alerts, commands) again from the start of the log
             beside the live one, and switch readers over once it has caught up; run again to
             resume after a crash
  keys       create, list and revoke API keys, and tenants' MQTT accounts (keys --help)
  mqtt       map devices' MQTT topics (Shelly, Tasmota) to gridstream devices (mqtt --help)
  devices    import a file of devices, decommission or restore one, as the operator (devices --help)
  sites      add a site, as the operator (sites --help)
  prices     import day-ahead prices from a CSV file onto the market topic (prices --help)
  carbon     import grid carbon intensity from a CSV file onto the market topic (carbon --help)
  bench      benchmarks against the running stack (bench --help)
  dlq        list and show dead letters, and put them back on their topic (dlq --help)
  clean      remove what interrupted tests and benches left on the stack's servers: topics
             test-* and bench-*, QuestDB tables and views test_* and bench_*, MongoDB databases
             test_* and bench_* (never gridstream's own); --dry-run lists them. Not while tests
             or benches run against the same servers: theirs would go too

options (up, simulate):
  --sites N         sites to simulate, six devices each (default 5)
  --interval-ms N   time between readings of each device (default 1000)
  --tenant T        tenant the fleet belongs to (default demo)
  --seed N          random seed of the fleet (default 1)
  --key K           (simulate) an API key with the ingest and manage scopes; without it one is made`;

const log = (line: string) => process.stderr.write(`${line}\n`);

/** The first of the health ports `up` gives its services (9464: Prometheus exporters' range). */
const FIRST_HEALTH_PORT = 9464;

function apiUrl(config: Config): string {
  return `http://${config.GS_API_HOST}:${config.GS_API_PORT}`;
}

async function startFleet(
  config: Config,
  values: { sites: string; 'interval-ms': string; tenant: string; seed: string },
  apiKey: string,
) {
  const kafka = createKafka(kafkaSettings(config, `${config.GS_KAFKA_CLIENT_ID}-simulator`));
  const topics = topicNames(config.GS_TOPIC_PREFIX);
  await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS);
  const publisher = await createEventPublisher(kafka, topics);
  // The fleet's grid carbon intensity (made up, docs/cost.md): yesterday's and today's series of
  // each demo zone, and each new day's as it comes, so the dashboard shows emissions.
  const carbonDays = new Set<number>();
  const publishDemoCarbon = async () => {
    const days = demoCarbonDays(Date.now()).filter((day) => !carbonDays.has(day));
    if (days.length === 0) return;
    await publisher.publish(
      days
        .flatMap(demoCarbonPublications)
        .map((publication) => ({ ...carbonEvent(publication), source: DEMO_CARBON_SOURCE })),
    );
    for (const day of days) carbonDays.add(day);
  };
  const carbonFailed = (error: unknown) =>
    log(`gridstream: the demo carbon series was not published: ${(error as Error).message}`);
  await publishDemoCarbon().catch(carbonFailed);
  const carbonTimer = setInterval(() => void publishDemoCarbon().catch(carbonFailed), 600_000);
  const fleet = await runFleet({
    apiUrl: apiUrl(config),
    tenant: values.tenant,
    apiKey,
    sites: Number(values.sites),
    intervalMs: Number(values['interval-ms']),
    seed: Number(values.seed),
    log,
  });
  // The fleet's gateway: it answers the commands dispatched to its devices.
  const responder = createCommandResponder({
    tenant: values.tenant,
    devices: fleet.devices,
    random: seededRandom(Number(values.seed) + 1),
    publish: (events) => publisher.publish(events),
    newEventId: uuidv7,
    log,
  });
  const gateway = await runEventConsumer({
    kafka,
    groupId: `${config.GS_TOPIC_PREFIX}simulator.gateway`,
    topics: [topics.gateway],
    dlqTopic: topics.dlq,
    // Commands dispatched before this fleet started are not its to answer.
    fromBeginning: false,
    handle: async (events) => {
      responder.receive(
        events
          .map(({ event }) => event)
          .filter((event): event is DispatchedEvent => event.type === EventType.commandDispatched),
      );
    },
  });
  return {
    fleet,
    async stop() {
      // The fleet first: it posts to the API, which is stopping too.
      clearInterval(carbonTimer);
      await fleet.stop();
      await gateway.stop();
      await responder.stop();
      await publisher.disconnect();
    },
  };
}

async function up(config: Config, values: Parameters<typeof startFleet>[1]): Promise<void> {
  // The demo's key: the fleet posts with it and the printed examples use it.
  const { key } = await createApiKey(config, {
    tenant: values.tenant,
    scopes: ['read', 'ingest', 'command', 'manage'],
    name: 'gridstream up',
  });
  // The dashboard's key may only read: it sits in a URL the user opens and may share.
  const { key: dashboardKey } = await createApiKey(config, {
    tenant: values.tenant,
    scopes: ['read'],
    name: 'gridstream up dashboard',
  });
  // Created once here, so the services do not race to create them.
  const kafka = createKafka(kafkaSettings(config, `${config.GS_KAFKA_CLIENT_ID}-cli`));
  await createTopicsIfMissing(
    kafka,
    topicNames(config.GS_TOPIC_PREFIX),
    config.GS_TOPIC_PARTITIONS,
    topicRetention(config),
  );
  const supervisor = new ServiceSupervisor(log);
  // Each service its own health and metrics port (/healthz, /readyz, /metrics), from 9464 on.
  const healthPorts = new Map(SERVICES.map(({ name }, index) => [name, FIRST_HEALTH_PORT + index]));
  for (const service of SERVICES)
    supervisor.start({
      ...service,
      env: { GS_HEALTH_PORT: String(healthPorts.get(service.name)) },
    });
  let shuttingDown = false;
  const FLEET_STOP_TIMEOUT_MS = 10_000;
  /** The simulated fleet stops first: it would otherwise post to an API that is going away. */
  let stopFleet: () => Promise<void> = async () => undefined;
  const shutdown = (code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    // Bounded: whatever the fleet waits for (a broker or an API that is gone), the services stop.
    void Promise.race([
      stopFleet().catch(() => undefined),
      new Promise<void>((resolve) =>
        setTimeout(() => {
          log('gridstream: the simulated fleet did not stop within 10 s; stopping the services');
          resolve();
        }, FLEET_STOP_TIMEOUT_MS).unref(),
      ),
    ])
      .then(() => supervisor.stop())
      .then(() => process.exit(code));
  };
  process.once('SIGINT', () => {
    shutdown(0);
  });
  process.once('SIGTERM', () => {
    shutdown(0);
  });
  const base = apiUrl(config);
  await waitUntilReady(`${base}/readyz`, 60_000);
  const simulation = await startFleet(config, values, key);
  const { fleet } = simulation;
  const siteId = fleet.devices[0]?.registration.siteId ?? 'site-001';
  // A device over MQTT beside the fleet; without a broker the rest of the system still runs.
  const mqttDemo = await startMqttDemo(config, {
    apiUrl: apiUrl(config),
    apiKey: key,
    tenant: values.tenant,
    siteId,
  }).catch((error: unknown) => {
    log(`gridstream: the device over MQTT did not start: ${(error as Error).message}`);
    return undefined;
  });
  stopFleet = async () => {
    // The fleet first: the MQTT plug's account is revoked through the broker, which may be gone.
    await simulation.stop();
    await mqttDemo?.stop();
  };
  if (shuttingDown) await stopFleet();
  const example = fleet.devices[0]?.registration.deviceId ?? 'site-001-meter';
  const plug =
    fleet.devices.find((d) => d.registration.kind === 'smart_plug')?.registration.deviceId ??
    'site-001-smart-plug';
  log(`
gridstream is running. Ctrl-C stops the services (the stack keeps running: ./gridstream stack stop).

  API                 ${base}
  dashboard           ${base}${DASHBOARD_PATH}#key=${dashboardKey}
  API docs (OpenAPI)  ${base}/docs   (the document: ${base}/docs/json)
  health / readiness  ${base}/healthz  ${base}/readyz
  metrics             ${base}/metrics
  API key             ${key}
                      tenant '${values.tenant}', scopes read,ingest,command,manage (gridstream keys create makes more)
  a device            curl -H "$AUTH" ${base}/v1/devices/${example}
  its readings        curl -H "$AUTH" '${base}/v1/devices/${example}/readings'
  live readings       curl -N -H "$AUTH" '${base}/v1/stream?deviceId=${example}'
  command a plug      curl -H "$AUTH" -H 'idempotency-key: demo-1' -H 'content-type: application/json' -d '{"action":"switch_off"}' ${base}/v1/devices/${plug}/commands
  command stats       curl -H "$AUTH" ${base}/v1/commands/stats
                      (first: export AUTH='authorization: Bearer ${key}')
  MQTT                ${mqttSettings().url}  (make a device's account: ./gridstream keys mqtt create --tenant ${values.tenant})
${mqttDemo === undefined ? '' : `  a plug over MQTT    ${mqttDemo.deviceId}: a Shelly NotifyStatus on ${mqttDemo.topic} every 2 s\n`}  QuestDB console     ${config.GS_QDB_HTTP_URL}  (SQL over HTTP: /exec?query=...; user ${config.GS_QDB_HTTP_USER}, password in ${config.GS_HOME}/data/secrets/questdb.secret)
  stack logins        docs/security.md (each server's password is in ${config.GS_HOME}/data/secrets/)
  service health      ${[...healthPorts].map(([name, port]) => `${name} :${port}`).join(', ')}
                      (each: /healthz, /readyz, /metrics on 127.0.0.1)

simulating ${fleet.devices.length} devices on ${values.sites} sites for tenant '${values.tenant}', one reading each per ${values['interval-ms']} ms
`);
}

/**
 * Runs one service as a child with its node flags, passing signals on, and exits as it does:
 * `node packages/cli/src/main.ts run <service>`. `./gridstream run` does without this process:
 * it execs the service's own node process (run-argv.ts).
 */
function runOne(name: string | undefined): void {
  const service = name === undefined ? undefined : serviceNamed(name);
  if (service === undefined) {
    log(name === undefined ? RUN_USAGE : `gridstream: no service '${name}'\n\n${RUN_USAGE}`);
    process.exitCode = 64;
    return;
  }
  const child = spawn(process.execPath, serviceArgv(service), {
    stdio: 'inherit',
    // This process is the service's parent: a supervisor's pid from further up would stop it.
    env: serviceEnv(service, { ...process.env, GS_SUPERVISOR_PID: String(process.pid) }),
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => {
      child.kill(signal);
    });
  child.once('exit', (code, signal) => {
    process.exit(code ?? (signal === null ? 1 : 128 + 15));
  });
}

/**
 * A subcommand that prints its usage for --help or no arguments, writes its results to stdout,
 * and answers a usage mistake (a RangeError or TypeError it throws) with the usage and exit 64.
 */
async function subcommand(
  name: readonly string[],
  args: readonly string[],
  usage: string,
  run: (args: readonly string[], out: (line: string) => void) => Promise<void>,
): Promise<void> {
  if (args.length === 0 || args.includes('--help') || args.includes('-h')) {
    log(usage);
    return;
  }
  try {
    await run(args, (line) => {
      process.stdout.write(`${line}\n`);
    });
  } catch (error) {
    if (!(error instanceof RangeError) && !(error instanceof TypeError)) throw error;
    log(`gridstream ${name.join(' ')}: ${error.message}\n\n${usage}`);
    process.exitCode = 64;
  }
}

async function main(argv: readonly string[]): Promise<void> {
  if (argv[0] === 'run') {
    if (argv.includes('--help') || argv.includes('-h')) log(RUN_USAGE);
    else runOne(argv[1]);
    return;
  }
  if (argv[0] === 'replay') {
    if (argv.includes('--help') || argv.includes('-h')) {
      log(REPLAY_USAGE);
      return;
    }
    try {
      await replayCommand(loadConfigOrExit(), argv.slice(1));
    } catch (error) {
      if (!(error instanceof RangeError) && !(error instanceof TypeError)) throw error;
      log(`gridstream replay: ${error.message}\n\n${REPLAY_USAGE}`);
      process.exitCode = 64;
    }
    return;
  }
  if (argv[0] === 'keys' && argv[1] === 'mqtt') {
    await subcommand(argv.slice(0, 2), argv.slice(2), MQTT_KEYS_USAGE, async (args, out) => {
      await mqttKeysCommand(args, out);
    });
    return;
  }
  if (argv[0] === 'mqtt') {
    await subcommand(argv.slice(0, 1), argv.slice(1), MQTT_USAGE, async (args, out) => {
      await mqttCommand(loadConfigOrExit(), args, out);
    });
    return;
  }
  if (argv[0] === 'keys') {
    await subcommand(argv.slice(0, 1), argv.slice(1), KEYS_USAGE, async (args, out) => {
      await keysCommand(loadConfigOrExit(), args, out);
    });
    return;
  }
  if (argv[0] === 'devices' || argv[0] === 'sites') {
    const noun = argv[0];
    await subcommand([noun], argv.slice(1), REGISTRY_USAGE, async (args, out) => {
      process.exitCode = await registryCommand(loadConfigOrExit(), noun, args, out);
    });
    return;
  }
  if (argv[0] === 'prices' || argv[0] === 'carbon') {
    const kind = argv[0];
    await subcommand(
      [kind],
      argv.slice(1),
      kind === 'prices' ? PRICES_USAGE : CARBON_USAGE,
      async (args, out) => {
        process.exitCode = await marketImportCommand(loadConfigOrExit(), kind, args, out);
      },
    );
    return;
  }
  if (argv[0] === 'dlq') {
    await subcommand(['dlq'], argv.slice(1), DLQ_USAGE, async (args, out) => {
      process.exitCode = await dlqCommand(loadConfigOrExit(), args, out);
    });
    return;
  }
  if (argv[0] === 'bench') {
    const { runBench } = await import('./bench/main.ts');
    await runBench(argv.slice(1));
    return;
  }
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      sites: { type: 'string', default: '5' },
      'interval-ms': { type: 'string', default: '1000' },
      tenant: { type: 'string', default: 'demo' },
      at: { type: 'string' },
      seed: { type: 'string', default: '1' },
      key: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
      'dry-run': { type: 'boolean', default: false },
    },
  });
  const command = positionals[0];
  if (values.help || command === undefined || command === 'help') {
    log(USAGE);
    return;
  }
  switch (command) {
    case 'schema':
      process.stdout.write(`${JSON.stringify(catalogueJsonSchema(), null, 2)}\n`);
      return;
    case 'up':
      await up(loadConfigOrExit(), values);
      return;
    case 'clean':
      await clean(loadConfigOrExit(), values['dry-run']);
      return;
    case 'state':
      try {
        await printDeviceState(loadConfigOrExit(), values.tenant, positionals[1], values.at);
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        log(`gridstream state: ${error.message}`);
        process.exitCode = 64;
      }
      return;
    case 'rebuild': {
      const name = positionals[1] ?? '';
      if (!isProjectionName(name)) {
        log(`gridstream: rebuild what? one of: ${Object.keys(PROJECTIONS).join(', ')}`);
        process.exitCode = 64;
        return;
      }
      await rebuild(loadConfigOrExit(), name);
      return;
    }
    case 'simulate': {
      const config = loadConfigOrExit();
      const apiKey =
        values.key ??
        (
          await createApiKey(config, {
            tenant: values.tenant,
            scopes: ['ingest', 'manage'],
            name: 'gridstream simulate',
          })
        ).key;
      const running = await startFleet(config, values, apiKey);
      log(
        `gridstream: simulating ${running.fleet.devices.length} devices against ${apiUrl(loadConfigOrExit())}`,
      );
      process.once('SIGINT', () => {
        void running.stop().then(() => process.exit(0));
      });
      return;
    }
    default:
      log(`gridstream: unknown command '${command}'\n\n${USAGE}`);
      process.exitCode = 64;
  }
}

/** `gridstream clean`: what tests and benches left behind, listed and (unless a dry run) dropped. */
async function clean(config: Config, dryRun: boolean): Promise<void> {
  for (const [what, names] of [
    ['tests', EVERY_TEST],
    ['benches', EVERY_RUN],
  ] as const) {
    if (dryRun) {
      const found = await findRunData(config, names);
      const all = [...found.topics, ...found.views, ...found.tables, ...found.databases];
      log(
        `gridstream clean --dry-run: ${what} left ${found.topics.length} topics, ${found.views.length + found.tables.length} tables and views, ${found.databases.length} databases${all.map((name) => `\n  ${name}`).join('')}`,
      );
    } else {
      const dropped = await dropRunData(config, names);
      log(
        `gridstream clean: ${what}: dropped ${dropped.topics} topics, ${dropped.tables} tables and views, ${dropped.databases} databases`,
      );
    }
  }
}

await main(process.argv.slice(2));
