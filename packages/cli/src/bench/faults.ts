import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig } from '@gridstream/config';
import type { Config } from '@gridstream/config';
import kafkajs, { Kafka, logLevel } from 'kafkajs';
import {
  createEventPublisher,
  createTopicsIfMissing,
  kafkaSettings,
  observeKafka,
  saslOptions,
  topicNames,
} from '@gridstream/kafka';
import type { TopicLag } from '@gridstream/kafka';
import { createApiKey } from '../keys.ts';
import { instancesOf, memoryBoundMiB, SERVICES, serviceNamed } from '../services.ts';
import { checkDlq, checkProjections, checkStore } from './faults-checks.ts';
import type { DlqResult, ProjectionResult, StoreResult } from './faults-checks.ts';
import { Ledger, ReadingSource, registration, sleep, startLoad } from './faults-load.ts';
import { POISON_CLASSES, PoisonStream } from './faults-poison.ts';
import { planFaults } from './faults-plan.ts';
import type { Fault } from './faults-plan.ts';
import { Fleet } from './faults-services.ts';
import type { Instance } from './faults-services.ts';
import { createOwnStack, freePorts, REPO_ROOT, withoutStackAddresses } from './faults-stack.ts';
import type { OwnStack, Server } from './faults-stack.ts';

export interface FaultsOptions {
  /** Minutes of load with faults; the short variant ignores it. */
  readonly minutes: number;
  /** One of each fault in about two minutes of load (the CI variant). */
  readonly short: boolean;
  /** Readings/s offered in all (API and Kafka-direct). */
  readonly rate: number;
  /** Share of the readings sent straight to Kafka. */
  readonly kafkaShare: number;
  readonly devices: number;
  /** Instances of every service. */
  readonly instances: number;
  readonly outageSeconds: number;
  /** Kafka nodes of the own stack: 1, or a cluster of 3 whose nodes are killed one at a time. */
  readonly kafkaNodes: number;
  /** With a cluster: no fault but the kills of single Kafka nodes. */
  readonly brokerFaultsOnly: boolean;
  readonly clients: number;
  readonly batch: number;
  readonly keep: boolean;
  /** Where to write the figures as JSON (the e2e test reads them). */
  readonly json: string | undefined;
  readonly log: (line: string) => void;
}

/** The figures of a run; every count but `faults` and `accepted` must be 0. */
/** How long the load goes on after the last fault ended, at most, for its recovery to be seen. */
const RECOVERY_WINDOW_MS = 60_000;

export interface FaultsResult {
  readonly commit: string | undefined;
  readonly faults: number;
  readonly accepted: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly energyMismatches: number;
  readonly projectionMismatches: number;
  readonly api5xxNot503: number;
  readonly altered: number;
  readonly unledgered: number;
  readonly dlqMissing: number;
  readonly dlqDuplicated: number;
  readonly dlqUnexpected: number;
  readonly rssOverBound: number;
  readonly notRecovered: number;
  readonly crashes: number;
  /** Consumers found stuck (handing nothing over while messages waited) and replaced. */
  readonly consumersReplaced: number;
  readonly rate: number;
  readonly faultsByKind: Record<string, number>;
  /** The readings topic's replicas a partition and its min.insync.replicas. */
  readonly replication: { readonly factor: number; readonly minInsyncReplicas: number };
}

/** Replicas of the topic's first partition and the topic's min.insync.replicas. */
async function replicationOf(
  kafka: Kafka,
  topic: string,
): Promise<{ factor: number; minInsyncReplicas: number }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    const factor = metadata.topics[0]?.partitions[0]?.replicas.length ?? 0;
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [
        {
          type: kafkajs.ConfigResourceTypes.TOPIC,
          name: topic,
          configNames: ['min.insync.replicas'],
        },
      ],
    });
    const value = described.resources[0]?.configEntries[0]?.configValue;
    return { factor, minInsyncReplicas: Number(value ?? Number.NaN) };
  } finally {
    await admin.disconnect();
  }
}

/** The counts that must be 0, by name (the e2e test and the exit status use them). */
export function faultCounts(result: FaultsResult): [string, number][] {
  return [
    ['lost', result.lost],
    ['duplicated', result.duplicated],
    ['energy mismatches', result.energyMismatches],
    ['projection mismatches', result.projectionMismatches],
    ['API 5xx other than 503', result.api5xxNot503],
    ['stored other than sent', result.altered],
    ['poison letters missing', result.dlqMissing],
    ['poison letters duplicated', result.dlqDuplicated],
    ['letters of messages that were not poison', result.dlqUnexpected],
    ['services over their memory bound', result.rssOverBound],
  ];
}

const TABLE_RULE = '-'.repeat(100);

export async function benchFaults(options: FaultsOptions): Promise<FaultsResult> {
  const { log } = options;
  const run = randomBytes(3).toString('hex');
  const stack = await createOwnStack(log, options.kafkaNodes);
  let fleet: Fleet | undefined;
  let result: FaultsResult;
  // Ctrl-C must not leave the own stack and 18 services running.
  const interrupted = () => {
    log('  interrupted: stopping the services and the own stack');
    void (async () => {
      await fleet?.stopAll();
      await stack.destroy(options.keep);
      process.exit(130);
    })();
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const t0 = Date.now();
    await stack.start();
    log(`  own stack started in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    const config = loadConfig({
      ...withoutStackAddresses(process.env),
      ...stack.env,
      GS_TOPIC_PREFIX: `bench-${run}.`,
      GS_QDB_TABLE_PREFIX: `bench_${run}_`,
      GS_MONGO_DB: `bench_${run}`,
    });
    fleet = new Fleet({
      logDir: join(stack.home, 'logs', 'services'),
      baseEnv: {
        ...withoutStackAddresses(process.env),
        ...stack.env,
        GS_TOPIC_PREFIX: config.GS_TOPIC_PREFIX,
        GS_QDB_TABLE_PREFIX: config.GS_QDB_TABLE_PREFIX,
        GS_MONGO_DB: config.GS_MONGO_DB,
        GS_LOG_LEVEL: 'warn',
        GS_API_RATE_LIMIT_PER_MINUTE: String(1_000_000_000),
      },
      restartMs: 1_000,
    });
    result = await runFaults(options, config, stack, fleet);
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    await fleet?.stopAll();
    await stack.destroy(options.keep);
  }
  log(
    `faults: ${result.faults} injected, ${result.accepted} readings accepted, ${result.lost} lost, ${result.duplicated} duplicated, ${result.energyMismatches} energy mismatches, ${result.projectionMismatches} projection mismatches, ${result.api5xxNot503} API 5xx other than 503`,
  );
  return result;
}

async function runFaults(
  options: FaultsOptions,
  config: Config,
  stack: OwnStack,
  fleet: Fleet,
): Promise<FaultsResult> {
  const { log } = options;
  // Quiet: the outages the bench causes would fill its output with kafkajs's retries.
  const { sasl } = kafkaSettings(config, 'bench-faults');
  const kafka = new Kafka({
    clientId: 'bench-faults',
    brokers: [...config.GS_KAFKA_BROKERS],
    ...(sasl === undefined ? {} : { sasl: saslOptions(sasl) }),
    logLevel: logLevel.NOTHING,
    retry: { initialRetryTime: 200, retries: 8 },
  });
  const topics = topicNames(config.GS_TOPIC_PREFIX);
  await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS);
  const replication = await replicationOf(kafka, topics.readings);
  log(
    `  readings topic: ${String(replication.factor)} replica(s) a partition, min.insync.replicas ${String(replication.minInsyncReplicas)}; producers wait for acks=all`,
  );
  const publisher = await createEventPublisher(kafka, topics);
  for (let from = 0; from < options.devices; from += 500)
    await publisher.publish(
      Array.from({ length: Math.min(500, options.devices - from) }, (_, i) =>
        registration(from + i),
      ),
    );
  const { key } = await createApiKey(config, {
    tenant: 'faults',
    scopes: ['read', 'ingest'],
    name: 'bench faults',
  });
  const authorization = `Bearer ${key}`;

  // Every service twice (or --instances); each API instance on a port of its own.
  const apiPorts = await freePorts(options.instances + 8);
  const apiPortOf = new Map<Instance, number>();
  const addInstance = async (service: string) => {
    if (service !== 'api') return fleet.add(service);
    const port = apiPorts.shift();
    if (port === undefined) throw new Error('no API port left');
    const instance = await fleet.add(service, { GS_API_PORT: String(port) });
    apiPortOf.set(instance, port);
    return instance;
  };
  const started = Date.now();
  for (const service of SERVICES)
    for (let i = 0; i < instancesOf(service, options.instances); i++)
      await addInstance(service.name);
  log(
    `  ${fleet.instances.length} service instances (${options.instances} of each of ${SERVICES.length} services, one MQTT bridge), each the process \`gridstream run <service>\` runs, with its memory bound; logs in ${join(stack.home, 'logs', 'services')}`,
  );
  const apiBases = () =>
    fleet
      .running('api')
      .map((i) => apiPortOf.get(i))
      .filter((p): p is number => p !== undefined)
      .map((p) => `http://127.0.0.1:${p}`);
  await waitFor(
    async () => {
      const ready = await Promise.all(
        apiBases().map((b) =>
          fetch(`${b}/readyz`, { signal: AbortSignal.timeout(2000) })
            .then((r) => r.ok)
            .catch(() => false),
        ),
      );
      return ready.length === options.instances && ready.every(Boolean);
    },
    180_000,
    'the API instances to be ready',
  );
  log(`  every API instance ready after ${((Date.now() - started) / 1000).toFixed(0)} s`);

  // Monitor: lag of every group, RSS of every instance, recovery of every fault. Each sample's
  // lag per group and each fault go to timeline.tsv in the own stack's home (kept with --keep),
  // in the wall time the services' log lines carry: what a group did while a node was down.
  const timelineFile = join(stack.home, 'timeline.tsv');
  const timeline = (what: string, detail: string) =>
    appendFile(timelineFile, `${new Date().toISOString()}\t${what}\t${detail}\n`).catch(
      () => undefined,
    );
  const peakLag = new Map<string, number>();
  let lastLag: readonly TopicLag[] = [];
  let lastLagAtMs = 0;
  let lastAcceptedMs = 0;
  const faults: Fault[] = [];
  const rate = options.rate;
  const lagThreshold = Math.max(5_000, rate * 3);
  let monitoring = true;
  const monitorOnce = async () => {
    await fleet.sampleRss();
    try {
      const observed = await withDeadline(
        observeKafka(kafka, config.GS_TOPIC_PREFIX, topics.dlq),
        5_000,
      );
      lastLag = observed.lag;
      lastLagAtMs = Date.now();
      const byGroup = new Map<string, number>();
      for (const { group, lag } of observed.lag)
        byGroup.set(group, (byGroup.get(group) ?? 0) + lag);
      for (const [group, lag] of byGroup)
        if (lag > (peakLag.get(group) ?? 0)) peakLag.set(group, lag);
      await timeline(
        'lag',
        [...byGroup]
          .map(([group, lag]) => `${group.replace(config.GS_TOPIC_PREFIX, '')}=${lag}`)
          .join(' '),
      );
    } catch {
      // Kafka is down or frozen: no sample.
    }
    const totalLag = lastLag.reduce((sum, l) => sum + l.lag, 0);
    const now = Date.now();
    for (const fault of faults) {
      if (fault.endedMs === undefined || fault.recoveredMs !== undefined) continue;
      // An instance scaled in after it was killed is not expected back.
      const instanceBack =
        fault.kind !== 'kill -9' ||
        fault.instance === undefined ||
        fault.instance.running ||
        fault.instance.removed;
      if (
        instanceBack &&
        lastLagAtMs > fault.endedMs &&
        lastAcceptedMs > fault.endedMs &&
        totalLag <= Math.max(lagThreshold, fault.lagBefore ?? 0)
      ) {
        fault.recoveredMs = now;
        void timeline('fault', `${fault.kind} ${fault.target}: recovered`);
      }
    }
  };
  const monitor = (async () => {
    while (monitoring) {
      await monitorOnce();
      await sleep(1_000);
    }
  })();

  // Load and poison.
  const ledger = new Ledger();
  const answers = new Map<string, number>();
  const load = startLoad({
    apiBases,
    authorization,
    rate,
    kafkaShare: options.kafkaShare,
    batch: options.batch,
    clients: options.clients,
    publisher,
    ledger,
    source: new ReadingSource(options.devices),
    answers,
    onAccepted: (at) => {
      lastAcceptedMs = at;
    },
  });
  const poison = new PoisonStream(kafka, topics, options.devices);
  await poison.connect();

  const outageMs = options.outageSeconds * 1000;
  const loadMs = options.short
    ? 15_000 +
      (options.kafkaNodes > 1 ? (options.brokerFaultsOnly ? 2 : 8) : 6) * (outageMs + 12_000) +
      15_000
    : options.minutes * 60_000;
  const schedule = planFaults(options, loadMs, outageMs);
  const poisonEveryMs = options.short ? (loadMs - 20_000) / POISON_CLASSES.length : 5_000;
  let poisoning = true;
  const poisonLoop = (async () => {
    let next = load.startedMs + 5_000;
    while (poisoning) {
      if (Date.now() >= next) {
        if (await poison.sendNext()) next += poisonEveryMs;
        else await sleep(1_000);
      }
      await sleep(200);
    }
  })();
  log(
    `  load: ${rate.toLocaleString('en-US')} readings/s offered (${Math.round(options.kafkaShare * 100)} % straight to Kafka), ${options.devices} devices, ${(loadMs / 1000).toFixed(0)} s; ${schedule.length} faults planned, poison every ${(poisonEveryMs / 1000).toFixed(0)} s`,
  );

  // Inject the faults at their times (outages one after the other, the rest beside them).
  const inject = async (fault: Fault) => {
    fault.startedMs = Date.now();
    fault.lagBefore = lastLag.reduce((sum, l) => sum + l.lag, 0);
    faults.push(fault);
    const at = `${((fault.startedMs - load.startedMs) / 1000).toFixed(0).padStart(4)} s`;
    await timeline('fault', `${fault.kind} ${fault.target}: began`);
    switch (fault.kind) {
      case 'kill -9': {
        const running = fleet.running(fault.target);
        const victim = running[Math.floor(Math.random() * running.length)];
        if (victim === undefined) {
          fault.note = 'no instance running';
          fault.endedMs = Date.now();
          break;
        }
        fault.instance = victim;
        await fleet.kill(victim);
        fault.endedMs = Date.now();
        log(`  ${at}  kill -9 ${fault.target}#${victim.index} (pid ${victim.child.pid ?? '?'})`);
        break;
      }
      case 'instance added': {
        const instance = await addInstance(fault.target);
        fleet.statsOf(fault.target).added++;
        fault.instance = instance;
        fault.endedMs = Date.now();
        log(`  ${at}  added ${fault.target}#${instance.index}`);
        break;
      }
      case 'instance removed': {
        const running = fleet.running(fault.target);
        const victim = running[Math.floor(Math.random() * running.length)];
        if (victim === undefined || running.length <= 1) {
          fault.note = 'one instance left: none removed';
          fault.endedMs = Date.now();
          break;
        }
        log(`  ${at}  removing ${fault.target}#${victim.index} (SIGTERM)`);
        await fleet.remove(victim);
        fault.endedMs = Date.now();
        break;
      }
      case 'broker kill -9': {
        // One node of the cluster dies; its partitions' leadership moves to the others, and it
        // comes back (log recovery, then catching up as a follower) after the outage time.
        const node = Number(fault.target.replace('kafka node ', ''));
        log(`  ${at}  kill -9 Kafka node ${String(node)} of ${String(stack.kafkaNodes)}`);
        await stack.killKafkaNode(node);
        await sleep(Math.max(0, fault.startedMs + outageMs - Date.now()));
        await stack.startKafkaNode(node);
        fault.endedMs = Date.now();
        log(
          `         Kafka node ${String(node)} started again after ${((fault.endedMs - fault.startedMs) / 1000).toFixed(0)} s`,
        );
        break;
      }
      case 'outage (stop)':
      case 'outage (SIGSTOP)': {
        const server = fault.target as Server;
        const frozen = fault.kind === 'outage (SIGSTOP)';
        log(
          `  ${at}  ${server} ${frozen ? 'frozen (SIGSTOP)' : 'stopped'} for ${options.outageSeconds} s`,
        );
        if (frozen) await stack.freeze(server);
        else await stack.stop(server);
        await sleep(Math.max(0, fault.startedMs + outageMs - Date.now()));
        if (frozen) await stack.thaw(server);
        else await stack.start(server);
        fault.endedMs = Date.now();
        log(
          `         ${server} ${frozen ? 'thawed (SIGCONT)' : 'started again'} after ${((fault.endedMs - fault.startedMs) / 1000).toFixed(0)} s`,
        );
        break;
      }
    }
    await timeline('fault', `${fault.kind} ${fault.target}: ended`);
  };
  const serverFault = (f: Fault) => f.kind.startsWith('outage') || f.kind === 'broker kill -9';
  const outages = schedule.filter(serverFault);
  const others = schedule.filter((f) => !serverFault(f));
  const runSerial = async (list: Fault[]) => {
    for (const fault of list.sort((a, b) => a.atMs - b.atMs)) {
      await sleep(Math.max(0, load.startedMs + fault.atMs - Date.now()));
      await inject(fault);
    }
  };
  await Promise.all([runSerial(outages), runSerial(others)]);
  await sleep(Math.max(0, load.startedMs + loadMs - Date.now()));
  // The load goes on until every fault has recovered or RECOVERY_WINDOW_MS after the last one
  // ended: recovery needs a reading answered 202 after the fault, and a Kafka node whose restart
  // took a minute ended a few seconds before the load used to stop, so it counted as not
  // recovered while the groups drained in two seconds.
  const lastEndedMs = Math.max(0, ...faults.map((f) => f.endedMs ?? 0));
  while (
    faults.some((f) => f.recoveredMs === undefined) &&
    Date.now() < lastEndedMs + RECOVERY_WINDOW_MS
  )
    await sleep(1_000);

  poisoning = false;
  await poisonLoop;
  await load.stop();
  const loadSeconds = (Date.now() - load.startedMs) / 1000;
  const reached = ledger.size / loadSeconds;
  log(
    `  load stopped: ${ledger.size.toLocaleString('en-US')} readings accepted in ${loadSeconds.toFixed(0)} s (${Math.round(reached).toLocaleString('en-US')}/s; ${ledger.viaApi.toLocaleString('en-US')} through the API, ${ledger.viaKafka.toLocaleString('en-US')} straight to Kafka)`,
  );
  // Poison of every class at least once, whatever the timing allowed.
  const sentClasses = poison.countByClass();
  for (const kind of POISON_CLASSES) if (!sentClasses.has(kind)) await poison.send(kind);
  await poison.disconnect();
  await publisher.disconnect();

  // Back to the planned instances (a removal may have left one), then drain.
  for (const service of SERVICES)
    while (
      fleet.running(service.name).length + pendingRestarts(fleet, service.name) <
      instancesOf(service, options.instances)
    )
      await addInstance(service.name);
  const drainStarted = Date.now();
  let drained = false;
  try {
    await waitFor(
      async () =>
        lastLagAtMs > drainStarted + 1_000 &&
        lastLag.length > 0 &&
        lastLag.every((l) => l.lag === 0) &&
        faults.every((f) => f.endedMs !== undefined),
      // The short run's slowest group (the alerts processor) once took more than 150 s to catch
      // up after a FerretDB freeze and a kill under the CI load; how long is not what it checks.
      options.short ? 300_000 : Math.max(600_000, 2 * loadMs),
      'every consumer group to catch up',
    );
    drained = true;
  } catch (error) {
    log(`  ${(error as Error).message}; checking what is there`);
    for (const l of lastLag.filter((x) => x.lag > 0))
      log(`    behind: ${l.group} on ${l.topic}: ${l.lag}`);
  }
  log(
    `  drained in ${((Date.now() - drainStarted) / 1000).toFixed(0)} s${drained ? '' : ' (not fully)'}`,
  );
  // Recovery counts as reached once everything caught up, if not before.
  monitoring = false;
  await monitor;
  await fleet.sampleRss();
  const groupsLag = lastLag;

  log('  checking: the DLQ, every accepted reading in QuestDB, energy, projections');
  // Both checks only read, so one that fails on a transient error (a Kafka node that has just
  // come back, a metadata refresh) is tried again; each failure is printed, so a run that still
  // stops says why on its own output.
  const dlq = await readOnlyCheck(log, 'the DLQ', () =>
    checkDlq(kafka, config, poison.sent, poison.tried, groupsLag),
  );
  const store = await readOnlyCheck(log, 'QuestDB', () =>
    checkStore(config, ledger, options.devices),
  );
  const projections = await checkProjections(config, kafka, log);

  const result = summarise(options, {
    faults,
    ledger,
    answers,
    dlq,
    store,
    projections,
    fleet,
    peakLag,
    reached,
    poisonSent: poison.sent.size,
    replication,
  });
  printTable(options, {
    faults,
    answers,
    dlq,
    store,
    projections,
    fleet,
    peakLag,
    result,
    loadStartedMs: load.startedMs,
    lagThreshold,
  });
  if (options.json !== undefined)
    await writeFile(options.json, `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

/** Runs a check that only reads, up to three times, printing each failure. */
async function readOnlyCheck<T>(
  log: (line: string) => void,
  what: string,
  check: () => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await check();
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      log(`  checking ${what} failed (attempt ${attempt} of 3): ${message}`);
      if (attempt >= 3) throw error;
      await new Promise((resolve) => setTimeout(resolve, 5_000));
    }
  }
}

/** The memory bound of a service's instances, as `gridstream run` gives it (services.ts). */
function boundOf(service: string): number {
  const spec = serviceNamed(service);
  return spec === undefined ? Number.POSITIVE_INFINITY : memoryBoundMiB(spec);
}

function pendingRestarts(fleet: Fleet, service: string): number {
  // Killed instances not yet restarted come back by themselves.
  return fleet.instances.filter(
    (i) => i.service === service && !i.running && !i.removed && i.expected === 'kill',
  ).length;
}

interface Outcome {
  readonly faults: readonly Fault[];
  readonly ledger: Ledger;
  readonly answers: ReadonlyMap<string, number>;
  readonly dlq: DlqResult;
  readonly store: StoreResult;
  readonly projections: readonly ProjectionResult[];
  readonly fleet: Fleet;
  readonly peakLag: ReadonlyMap<string, number>;
  readonly reached: number;
  readonly poisonSent: number;
  readonly replication: FaultsResult['replication'];
}

function summarise(options: FaultsOptions, o: Outcome): FaultsResult {
  const faultsByKind: Record<string, number> = {};
  for (const f of o.faults) faultsByKind[f.kind] = (faultsByKind[f.kind] ?? 0) + 1;
  faultsByKind['poison message'] = o.poisonSent;
  let api5xxNot503 = 0;
  for (const [status, n] of o.answers)
    if (status.startsWith('5') && status !== '503') api5xxNot503 += n;
  let rssOverBound = 0;
  let crashes = 0;
  let consumersReplaced = 0;
  for (const [name, s] of o.fleet.stats) {
    if (s.peakRssMiB > boundOf(name)) rssOverBound++;
    crashes += s.crashes;
    consumersReplaced += s.replaced;
  }
  return {
    commit: treeDescription(),
    faults: o.faults.length + o.poisonSent,
    accepted: o.ledger.size,
    lost: o.store.lost,
    duplicated: o.store.duplicated,
    energyMismatches: o.store.energyMismatches,
    projectionMismatches: o.projections.reduce((sum, p) => sum + p.mismatches, 0),
    api5xxNot503,
    altered: o.store.altered,
    unledgered: o.store.unledgered,
    dlqMissing: o.dlq.missing,
    dlqDuplicated: o.dlq.duplicated,
    dlqUnexpected: o.dlq.unexpected,
    rssOverBound,
    notRecovered: o.faults.filter((f) => f.recoveredMs === undefined).length,
    crashes,
    consumersReplaced,
    rate: Math.round(o.reached),
    faultsByKind,
    replication: o.replication,
  };
}

function printTable(
  options: FaultsOptions,
  t: Omit<Outcome, 'ledger' | 'reached' | 'poisonSent' | 'replication'> & {
    result: FaultsResult;
    loadStartedMs: number;
    lagThreshold: number;
  },
): void {
  const { log } = options;
  const s = (ms: number | undefined) => (ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);
  log(TABLE_RULE);
  log(`tree: ${t.result.commit ?? 'unknown'}`);
  log(
    `faults injected (recovered = after the fault ended, a reading answered 202 and the groups, in all, no further behind than when it began or ${t.lagThreshold.toLocaleString('en-US')} messages, whichever is more)`,
  );
  log(
    `  ${'at'.padStart(6)}  ${'fault'.padEnd(18)} ${'target'.padEnd(22)} ${'lasted'.padStart(8)} ${'recovered after'.padStart(16)}`,
  );
  for (const f of [...t.faults].sort((a, b) => (a.startedMs ?? 0) - (b.startedMs ?? 0))) {
    const at = s((f.startedMs ?? 0) - t.loadStartedMs);
    const target = f.instance === undefined ? f.target : `${f.target}#${f.instance.index}`;
    const lasted =
      f.endedMs === undefined || f.startedMs === undefined ? '-' : s(f.endedMs - f.startedMs);
    const recovered =
      f.recoveredMs === undefined || f.startedMs === undefined
        ? 'not recovered'
        : s(f.recoveredMs - f.startedMs);
    log(
      `  ${at.padStart(6)}  ${f.kind.padEnd(18)} ${target.padEnd(22)} ${lasted.padStart(8)} ${recovered.padStart(16)}${f.note === undefined ? '' : `  (${f.note})`}`,
    );
  }
  const byKind = new Map<string, number[]>();
  for (const f of t.faults) {
    const key = f.kind.startsWith('outage') ? `${f.kind} ${f.target}` : f.kind;
    const list = byKind.get(key) ?? [];
    if (f.recoveredMs !== undefined && f.startedMs !== undefined)
      list.push(f.recoveredMs - f.startedMs);
    else list.push(Number.NaN);
    byKind.set(key, list);
  }
  log('  by kind:   count   recovered   worst recovery');
  for (const [kind, list] of [...byKind].sort()) {
    const ok = list.filter((x) => !Number.isNaN(x));
    log(
      `    ${kind.padEnd(28)} ${String(list.length).padStart(4)} ${String(ok.length).padStart(10)}   ${ok.length === 0 ? '-' : s(Math.max(...ok))}`,
    );
  }
  log(
    `  poison messages sent straight to Kafka, by class (letters expected = one per group reading the topic):`,
  );
  for (const [kind, c] of t.dlq.byClass)
    log(
      `    ${kind.padEnd(26)} ${String(c.sent).padStart(4)} sent, ${String(c.expected).padStart(4)} letters expected, ${String(c.found).padStart(4)} found`,
    );
  log(
    `  DLQ: ${t.dlq.letters} letters; ${t.dlq.missing} missing, ${t.dlq.duplicated} duplicated in what dlq list shows, ${t.dlq.copies} written twice (a copy dlq list folds into its letter), ${t.dlq.unexpected} of messages that were not poison`,
  );
  if (t.dlq.waitedS > 0)
    log(
      `    ${t.dlq.missing === 0 ? 'every letter seen' : 'still missing'} after looking again for ${t.dlq.waitedS} s (a transaction left open hides later letters until it is settled)`,
    );
  for (const m of t.dlq.missingExamples) log(`    ${m}`);
  // Which fault a second letter followed: the last one injected before it was written.
  const since = (ms: number) => `${((ms - t.loadStartedMs) / 1000).toFixed(0)} s`;
  for (const d of t.dlq.doubled) {
    const second = d.failedAtMs[1] ?? Number.NaN;
    const before = [...t.faults]
      .filter((f) => (f.startedMs ?? Infinity) <= second)
      .sort((a, b) => (b.startedMs ?? 0) - (a.startedMs ?? 0))[0];
    const cause =
      before === undefined
        ? 'no fault before it'
        : `last fault before it: ${before.kind} ${before.instance === undefined ? before.target : `${before.target}#${before.instance.index}`} at ${since(before.startedMs ?? 0)}`;
    log(
      `    ${d.kind} dead-lettered ${d.failedAtMs.length} times by ${d.group}, at ${d.failedAtMs.map(since).join(', ')} (${cause})`,
    );
  }
  for (const [reason, n] of t.dlq.unexpectedReasons) log(`    unexpected x${n}: ${reason}`);
  log('  services (per instance: peak RSS of the process tree, sampled every second from /proc):');
  log(
    `    ${'service'.padEnd(22)} ${'peak RSS'.padStart(10)} ${'bound'.padStart(9)} ${'kills'.padStart(6)} ${'crashes'.padStart(8)} ${'restarts'.padStart(9)} ${'added'.padStart(6)} ${'removed'.padStart(8)} ${'replaced'.padStart(9)}`,
  );
  for (const [name, st] of t.fleet.stats) {
    const over = st.peakRssMiB > boundOf(name) ? '  OVER ITS BOUND' : '';
    log(
      `    ${name.padEnd(22)} ${`${st.peakRssMiB.toFixed(0)} MiB`.padStart(10)} ${`${boundOf(name)} MiB`.padStart(9)} ${String(st.kills).padStart(6)} ${String(st.crashes).padStart(8)} ${String(st.restarts).padStart(9)} ${String(st.added).padStart(6)} ${String(st.removed).padStart(8)} ${String(st.replaced).padStart(9)}${over}`,
    );
    if (st.lastCrash !== undefined) log(`      last crash: ${st.lastCrash}`);
  }
  log('  peak lag per consumer group (messages):');
  for (const [group, lag] of [...t.peakLag].sort())
    log(`    ${group.padEnd(60)} ${lag.toLocaleString('en-US').padStart(10)}`);
  log(
    `  API answers by status: ${[...t.answers]
      .sort()
      .map(([status, n]) => `${status} ${n.toLocaleString('en-US')}`)
      .join(', ')} (requests of ${options.batch} readings)`,
  );
  log(
    `  QuestDB: ${t.store.lost} lost, ${t.store.duplicated} duplicated, ${t.store.altered} stored other than sent, ${t.store.unledgered} rows no 202 vouched for; energy: ${t.store.energyBuckets} device quarter hours compared, ${t.store.energyMismatches} differ`,
  );
  for (const e of t.store.examples) log(`    ${e}`);
  for (const p of t.projections) for (const e of p.examples) log(`    ${e}`);
  log(
    `  rate reached: ${t.result.rate.toLocaleString('en-US')} readings/s accepted; crashes (exits the bench did not cause): ${t.result.crashes}; consumers found stuck and replaced: ${t.result.consumersReplaced}; faults not recovered: ${t.result.notRecovered}; services over their memory bound: ${t.result.rssOverBound}`,
  );
  log(TABLE_RULE);
}

/** The commit the run is on, and whether the shared working tree had changes beside it. */
function treeDescription(): string | undefined {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const changed = git('status', '--porcelain', '--untracked-files=no')
      .split('\n')
      .filter((l) => l !== '').length;
    return `${git('rev-parse', '--short', 'HEAD')}${changed === 0 ? '' : ` + uncommitted changes to ${changed} files`}`;
  } catch {
    return undefined;
  }
}

async function waitFor(
  condition: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs / 1000} s for ${what}`);
    await sleep(500);
  }
}

async function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new Error('timed out'));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
