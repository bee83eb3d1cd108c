import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository root (this file is packages/cli/src/bench/). */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const STACK_SH = join(REPO_ROOT, 'deploy/local/stack.sh');

export type Server = 'kafka' | 'questdb' | 'mongo';
export const SERVERS: readonly Server[] = ['kafka', 'questdb', 'mongo'];

/**
 * A stack of its own (deploy/local/stack.sh) under a temporary GS_HOME on free ports, so the
 * faults it suffers never touch the shared stack on the default ports.
 */
export interface OwnStack {
  readonly home: string;
  /** The GS_* variables that move the stack and the services to these ports. */
  readonly env: Readonly<Record<string, string>>;
  /** Kafka nodes: 1, or a cluster (`--kafka-brokers`). */
  readonly kafkaNodes: number;
  start(server?: Server): Promise<void>;
  /** kill -9 of one Kafka node (1 is `kafka`, k is `kafka-k`), and its start again. */
  killKafkaNode(node: number): Promise<void>;
  startKafkaNode(node: number): Promise<void>;
  /** SIGSTOP / SIGCONT of one Kafka node: its connections stay open and nothing answers. */
  freezeKafkaNode(node: number): Promise<void>;
  thawKafkaNode(node: number): Promise<void>;
  stop(server?: Server): Promise<void>;
  /** SIGSTOP / SIGCONT of the server's process (a frozen server: connections hang, nothing answers). */
  freeze(server: Server): Promise<void>;
  thaw(server: Server): Promise<void>;
  pid(server: Server): Promise<number | undefined>;
  /** Stops every server (thawed first) and removes the temporary home unless kept. */
  destroy(keep: boolean): Promise<void>;
}

export async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer());
  const ports: number[] = [];
  for (const server of servers) {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no free port');
    ports.push(address.port);
  }
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** The variables that would point a process at another stack than ours; dropped from children. */
export const STACK_ADDRESS_VARIABLES = [
  'GS_KAFKA_BROKERS',
  'GS_QDB_HTTP_URL',
  'GS_QDB_PG_HOST',
  'GS_MONGO_URL',
  'GS_MQTT_URL',
  'GS_MQTT_PASSWORD',
  'GS_MQTT_ADMIN_PASSWORD',
  'GS_HOME',
  // The own stack makes passwords of its own in its GS_HOME.
  'GS_KAFKA_SASL_PASSWORD',
  'GS_QDB_HTTP_PASSWORD',
  'GS_QDB_PG_PASSWORD',
  'GS_MONGO_PASSWORD',
] as const;

export function withoutStackAddresses(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env))
    if (value !== undefined && !(STACK_ADDRESS_VARIABLES as readonly string[]).includes(name))
      out[name] = value;
  return out;
}

export async function createOwnStack(
  log: (line: string) => void,
  kafkaNodes = 1,
): Promise<OwnStack> {
  const home = await mkdtemp(join(tmpdir(), 'gridstream-faults-'));
  const [kafka, controller, http, pg, ilp, health, mongo, mqtt, ...more] = await freePorts(
    8 + 2 * (kafkaNodes - 1),
  );
  const nodePorts = [kafka, ...Array.from({ length: kafkaNodes - 1 }, (_, i) => more[2 * i])];
  const env: Record<string, string> = {
    GS_HOME: home,
    GS_KAFKA_PORT: String(kafka),
    GS_KAFKA_CONTROLLER_PORT: String(controller),
    GS_QDB_HTTP_PORT: String(http),
    GS_QDB_PG_PORT: String(pg),
    GS_QDB_ILP_TCP_PORT: String(ilp),
    GS_QDB_HEALTH_PORT: String(health),
    GS_MONGO_PORT: String(mongo),
    GS_MQTT_PORT: String(mqtt),
    // Every node, so that clients find the cluster whichever node is down.
    GS_KAFKA_BROKERS: nodePorts.map((p) => `127.0.0.1:${String(p)}`).join(','),
  };
  for (let k = 2; k <= kafkaNodes; k++) {
    env[`GS_KAFKA_PORT_${k}`] = String(more[2 * (k - 2)]);
    env[`GS_KAFKA_CONTROLLER_PORT_${k}`] = String(more[2 * (k - 2) + 1]);
  }
  const stackEnv = { ...withoutStackAddresses(process.env), ...env };
  // For a look afterwards (--keep): `set -a; . $home/stack.env; deploy/local/stack.sh start`.
  await writeFile(
    join(home, 'stack.env'),
    Object.entries(env)
      .map(([name, value]) => `${name}=${value}\n`)
      .join(''),
  );
  const stack = async (...args: string[]) => {
    try {
      await run('bash', [STACK_SH, ...args], { env: stackEnv, maxBuffer: 16 * 1024 * 1024 });
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; message: string };
      throw new Error(
        `stack.sh ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`,
      );
    }
  };
  const nodeName = (node: number) => (node === 1 ? 'kafka' : `kafka-${String(node)}`);
  const pid = async (server: string) => {
    try {
      const value = Number((await readFile(join(home, 'run', `${server}.pid`), 'utf8')).trim());
      return Number.isInteger(value) && value > 0 ? value : undefined;
    } catch {
      return undefined;
    }
  };
  const signal = async (server: Server, name: NodeJS.Signals) => {
    const p = await pid(server);
    if (p === undefined) throw new Error(`${server} has no pid in ${home}/run`);
    process.kill(p, name);
  };
  const signalKafkaNode = async (node: number, name: NodeJS.Signals) => {
    const p = await pid(nodeName(node));
    if (p === undefined) throw new Error(`Kafka node ${String(node)} has no pid in ${home}/run`);
    process.kill(p, name);
  };
  log(
    `  own stack: GS_HOME ${home}, Kafka ${env['GS_KAFKA_BROKERS'] ?? ''} (${String(kafkaNodes)} node(s)), QuestDB ${http}/${pg}, FerretDB ${mongo} (the shared stack is not touched)`,
  );
  return {
    home,
    env,
    kafkaNodes,
    // The cluster's size on every start, so that a first start of Kafka alone makes all its nodes.
    start: (server) =>
      stack(
        'start',
        '--kafka-brokers',
        String(kafkaNodes),
        ...(server === undefined ? [] : [server]),
      ),
    killKafkaNode: (node) => signalKafkaNode(node, 'SIGKILL'),
    freezeKafkaNode: (node) => signalKafkaNode(node, 'SIGSTOP'),
    thawKafkaNode: (node) => signalKafkaNode(node, 'SIGCONT'),
    startKafkaNode: (node) => stack('start', nodeName(node)),
    stop: (server) => stack('stop', ...(server === undefined ? [] : [server])),
    freeze: (server) => signal(server, 'SIGSTOP'),
    thaw: (server) => signal(server, 'SIGCONT'),
    pid,
    async destroy(keep) {
      for (const server of SERVERS) await signal(server, 'SIGCONT').catch(() => undefined);
      for (let node = 2; node <= kafkaNodes; node++)
        await signalKafkaNode(node, 'SIGCONT').catch(() => undefined);
      await stack('stop').catch((error: unknown) => {
        log(`  stopping the own stack: ${(error as Error).message}`);
      });
      if (!keep) await rm(home, { recursive: true, force: true });
      else log(`  kept the own stack's data in ${home}`);
    },
  };
}
