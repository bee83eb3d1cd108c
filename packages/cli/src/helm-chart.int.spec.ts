import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '@gridstream/config';
import { alertsProcessorGroupId } from '@gridstream/processor-alerts';
import { archiveGroupId } from '@gridstream/processor-archive';
import { commandsProcessorGroupId } from '@gridstream/processor-commands';
import { energyProcessorGroupId } from '@gridstream/processor-energy';
import { buildGroupId, initialBuildId } from '@gridstream/projection';
import { alertsProjection } from '@gridstream/projection-alerts';
import { commandsProjection } from '@gridstream/projection-commands';
import { devicesProjection, sitesProjection } from '@gridstream/projection-devices';
import { siteEnergyProjection } from '@gridstream/projection-site-energy';
import { SERVICES, mainFileOf, serviceArgv } from './services.ts';

/*
 * The Helm chart (deploy/helm/gridstream) against what it deploys: the services
 * docker-compose.yml runs, with their commands and variables; the node flags and memory bounds of
 * services.ts; the consumer groups the code names. It needs no cluster and no server: the chart is
 * linted and rendered, never installed. Helm is built into the cache by deploy/helm/install-helm.sh
 * (minutes the first time).
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CHART = `${ROOT}deploy/helm/gridstream`;
const INSTALL_HELM = `${ROOT}deploy/helm/install-helm.sh`;
const CHECK_MANIFESTS = `${ROOT}deploy/helm/check-manifests`;
/** Kinds whose Go types are not in k8s.io/api (KEDA's): checked by the tests below instead. */
const UNTYPED_KINDS = ['ScaledObject', 'TriggerAuthentication'];
const HELM_BUILD_MS = 20 * 60_000;
const execFileAsync = promisify(execFile);

/** Variables the chart adds for Kubernetes: its probes' port, on the pod's address. */
const HEALTH_VARIABLES = ['GS_HEALTH_HOST', 'GS_HEALTH_PORT'];
/** Where a service listens or finds the API: wiring of the pod, not configuration. */
const LITERAL_VARIABLES = ['GS_API_HOST', 'MALLOC_MMAP_THRESHOLD_'];

interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: {
    readonly configMapKeyRef?: { readonly name: string; readonly key: string };
    readonly secretKeyRef?: { readonly name: string; readonly key: string };
  };
}
interface HttpProbe {
  readonly httpGet?: { readonly path: string; readonly port: string | number };
}
interface Container {
  readonly name: string;
  readonly command?: readonly string[];
  readonly args?: readonly string[];
  readonly env?: readonly EnvVar[];
  readonly envFrom?: readonly unknown[];
  readonly ports?: readonly { readonly name: string; readonly containerPort: number }[];
  readonly readinessProbe?: HttpProbe;
  readonly livenessProbe?: HttpProbe;
  readonly resources?: {
    readonly requests?: Record<string, string>;
    readonly limits?: Record<string, string>;
  };
  readonly securityContext?: {
    readonly readOnlyRootFilesystem?: boolean;
    readonly allowPrivilegeEscalation?: boolean;
  };
}
interface PodTemplate {
  readonly metadata: { readonly labels: Record<string, string> };
  readonly spec: {
    readonly containers: readonly Container[];
    readonly securityContext?: { readonly runAsNonRoot?: boolean };
  };
}
interface Manifest {
  readonly kind: string;
  readonly metadata: {
    readonly name: string;
    readonly labels?: Record<string, string>;
    readonly annotations?: Record<string, string>;
  };
  readonly data?: Record<string, string> | null;
  // What a kind has in its spec differs; each check reads what it needs.
  readonly spec?: {
    readonly replicas?: number;
    readonly strategy?: { readonly type: string };
    readonly template?: PodTemplate;
    readonly selector?: { readonly matchLabels: Record<string, string> } | Record<string, string>;
    readonly scaleTargetRef?: { readonly name: string };
    readonly minReplicaCount?: number;
    readonly triggers?: readonly {
      readonly type: string;
      readonly metadata: Record<string, string>;
      readonly authenticationRef?: { readonly name: string };
    }[];
    readonly secretTargetRef?: readonly { parameter: string; name: string; key: string }[];
    readonly configMapTargetRef?: readonly { parameter: string; name: string; key: string }[];
    readonly ports?: readonly { readonly port: number; readonly targetPort: string | number }[];
    readonly rules?: readonly {
      readonly http: {
        readonly paths: readonly {
          readonly backend: {
            readonly service: { readonly name: string; readonly port: { readonly name: string } };
          };
        }[];
      };
    }[];
  };
}

/** A workload of the chart: a Deployment, or the provisioning Job, named as Compose names it. */
interface Workload {
  readonly service: string;
  readonly manifest: Manifest;
  readonly pod: PodTemplate;
  readonly container: Container;
}

interface ComposeService {
  readonly build?: { readonly dockerfile?: string };
  readonly command?: readonly string[];
  readonly environment?: Record<string, unknown>;
}

async function installHelm(): Promise<string> {
  const child = spawn(INSTALL_HELM, [], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    process.stderr.write(chunk); // a first build takes minutes: show that it is under way
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  const path = stdout.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || path === '')
    throw new Error(
      `Helm could not be installed: deploy/helm/install-helm.sh exited ${String(code)}, so the chart ` +
        `cannot be checked. Its last words:\n${stderr.slice(-3000)}`,
    );
  return path;
}

function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text).flatMap((document) => {
    if (document.errors.length > 0)
      throw new Error(`unreadable YAML: ${document.errors.join('; ')}`);
    const manifest = document.toJS() as Manifest | null;
    return manifest === null ? [] : [manifest];
  });
}

function workloadsOf(manifests: readonly Manifest[]): Map<string, Workload> {
  const workloads = new Map<string, Workload>();
  for (const manifest of manifests) {
    if (manifest.kind !== 'Deployment' && manifest.kind !== 'Job') continue;
    const service = manifest.metadata.labels?.['app.kubernetes.io/component'] ?? '';
    const pod = manifest.spec?.template;
    const [container, ...others] = pod?.spec.containers ?? [];
    if (pod === undefined || container === undefined || others.length > 0)
      throw new Error(`${manifest.kind} ${manifest.metadata.name}: not one container`);
    workloads.set(service, { service, manifest, pod, container });
  }
  return workloads;
}

function ofKind(manifests: readonly Manifest[], kind: string): Manifest[] {
  return manifests.filter((manifest) => manifest.kind === kind);
}

function named(manifests: readonly Manifest[], kind: string, name: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && m.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name} in the rendered chart`);
  return found;
}

/** `node`, its flags, then the main file and its arguments. */
function splitNodeArgs(argv: readonly string[]): { flags: string[]; rest: string[] } {
  const [program, ...after] = argv;
  expect(program).toBe('node');
  const firstNonFlag = after.findIndex((arg) => !arg.startsWith('--'));
  return { flags: after.slice(0, firstNonFlag), rest: after.slice(firstNonFlag) };
}

function envNames(container: Container): string[] {
  return (container.env ?? []).map((variable) => variable.name).sort();
}

const config = loadConfig({});
function liveGroupOf(projection: { readonly name: string; readonly version: number }): string {
  return buildGroupId(config.GS_TOPIC_PREFIX, projection.name, initialBuildId(projection.version));
}
/** The consumer groups whose lag more instances of a service work off, as the code names them. */
const SCALED_GROUPS: Readonly<Record<string, readonly string[]>> = {
  energy: [energyProcessorGroupId(config)],
  archive: [archiveGroupId(config)],
  alerts: [alertsProcessorGroupId(config)],
  commands: [commandsProcessorGroupId(config)],
  devices: [liveGroupOf(devicesProjection)],
  'alerts-projection': [liveGroupOf(alertsProjection)],
  'commands-projection': [liveGroupOf(commandsProjection)],
};

const marker = () => `pw-${randomBytes(8).toString('hex')}`;
const PASSWORDS = {
  GS_KAFKA_SASL_PASSWORD: marker(),
  GS_QDB_HTTP_PASSWORD: marker(),
  GS_QDB_PG_PASSWORD: marker(),
  GS_MONGO_PASSWORD: marker(),
  GS_MQTT_PASSWORD: marker(),
  GS_MQTT_ADMIN_PASSWORD: marker(),
};

describe('the Helm chart (deploy/helm/gridstream), linted and rendered by Helm v4.3.2', () => {
  let helm = '';
  let compose: ReadonlyMap<string, ComposeService> = new Map();
  /** Rendered with the default values. */
  let defaults: Manifest[] = [];
  /** Rendered with KEDA, the Ingress, the simulator and every password on. */
  let full: Manifest[] = [];

  const helmRun = async (args: readonly string[]) => {
    try {
      return (await execFileAsync(helm, [...args], { maxBuffer: 64 << 20, encoding: 'utf8' }))
        .stdout;
    } catch (error) {
      const { stderr } = error as { stderr?: string };
      throw new Error(`helm ${args.join(' ')} failed:\n${stderr ?? String(error)}`);
    }
  };
  const sets = (values: Readonly<Record<string, string>>) =>
    Object.entries(values).flatMap(([key, value]) => ['--set', `${key}=${value}`]);
  const fullValues = {
    'keda.enabled': 'true',
    'ingress.enabled': 'true',
    'services.simulator.enabled': 'true',
    ...Object.fromEntries(
      Object.entries(PASSWORDS).map(([name, value]) => [`secret.passwords.${name}`, value]),
    ),
  };
  const render = async (values: Readonly<Record<string, string>> = {}) =>
    parseManifests(
      await helmRun(['template', 'gs', CHART, '--namespace', 'gridstream', ...sets(values)]),
    );

  /** Why the chart cannot be checked: each test fails with it, none is skipped. */
  let problem: Error | undefined;
  const setUp = async () => {
    helm = await installHelm();
    const composeFile = parse(await readFile(`${ROOT}docker-compose.yml`, 'utf8'), {
      merge: true, // x-gridstream and its environment reach the services through <<: *anchor
    }) as { services: Record<string, ComposeService> };
    compose = new Map(
      Object.entries(composeFile.services).filter(
        // gridstream's own services are those built from its Dockerfile
        ([, service]) => service.build?.dockerfile === 'deploy/docker/Dockerfile',
      ),
    );
    [defaults, full] = await Promise.all([render(), render(fullValues)]);
  };
  beforeAll(async () => {
    await setUp().catch((error: unknown) => {
      problem = error as Error;
    });
  }, HELM_BUILD_MS);
  beforeEach(() => {
    if (problem !== undefined) throw problem;
  });

  it('is Helm v4.3.2, as deploy/helm/install-helm.sh pins it', async () => {
    expect((await helmRun(['version', '--template', '{{.Version}}'])).trim()).toBe('v4.3.2');
  });

  it(
    'holds only fields the Kubernetes API knows, by its own Go types (k8s.io/api, strictly)',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'gridstream-helm-'));
      try {
        const file = join(dir, 'manifests.yaml');
        const tls = {
          'ingress.tls[0].hosts[0]': 'gridstream.example.com',
          'ingress.tls[0].secretName': 'tls',
        };
        await writeFile(
          file,
          await helmRun(['template', 'gs', CHART, ...sets({ ...fullValues, ...tls })]),
        );
        // -trimpath and no cgo as Helm was built: Go's build cache already holds k8s.io's packages
        const checked = await execFileAsync(
          'go',
          ['-C', CHECK_MANIFESTS, 'run', '-trimpath', '.', file],
          {
            encoding: 'utf8',
            env: { ...process.env, CGO_ENABLED: '0' },
          },
        ).catch((error: unknown) => {
          const { stdout, stderr } = error as { stdout?: string; stderr?: string };
          throw new Error(
            `deploy/helm/check-manifests refused the chart:\n${stdout ?? ''}${stderr ?? ''}`,
          );
        });
        const lines = checked.stdout.trim().split('\n');
        expect(lines.filter((line) => line.startsWith('ok: ')).length).toBe(
          full.filter((m) => !UNTYPED_KINDS.includes(m.kind)).length,
        );
        for (const line of lines.filter((l) => !l.startsWith('ok: ')))
          expect(line).toMatch(new RegExp(`^not checked: (${UNTYPED_KINDS.join('|')}) `));
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
    HELM_BUILD_MS,
  );

  it('passes helm lint --strict with the default values and with everything on', async () => {
    for (const values of [{}, fullValues]) {
      const out = await helmRun(['lint', '--strict', CHART, ...sets(values)]);
      expect(out).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  it('runs every gridstream service docker-compose.yml runs, the simulator only when asked', () => {
    expect([...compose.keys()].sort()).toContain('mqtt-setup');
    expect([...workloadsOf(full).keys()].sort()).toEqual([...compose.keys()].sort());
    expect([...workloadsOf(defaults).keys()].sort()).toEqual(
      [...compose.keys()].filter((name) => name !== 'simulator').sort(),
    );
    // and every long-running service of services.ts is a Deployment
    const deployments = ofKind(full, 'Deployment').map(
      (d) => d.metadata.labels?.['app.kubernetes.io/component'],
    );
    for (const service of SERVICES) expect(deployments).toContain(service.name);
  });

  it("runs each one with Compose's command, and the node flags and heap bound of gridstream run", () => {
    for (const [name, workload] of workloadsOf(full)) {
      const composed = compose.get(name)?.command ?? [];
      const args = workload.container.args ?? [];
      // args replace the image's CMD as Compose's command does, and keep its entrypoint
      expect(workload.container.command, name).toBeUndefined();
      const chart = splitNodeArgs(args);
      const composeArgs = splitNodeArgs(composed);
      expect(chart.rest, `${name}: main file and arguments`).toEqual(composeArgs.rest);
      for (const flag of composeArgs.flags) expect(chart.flags, name).toContain(flag);
      const spec = SERVICES.find((service) => service.name === name);
      const limitMiB = Number.parseInt(workload.container.resources?.limits?.memory ?? '', 10);
      if (spec === undefined) {
        // a command, not a service: Compose's flags and a heap of half its memory limit
        expect(chart.flags.filter((f) => !f.startsWith('--max-old-space-size='))).toEqual(
          composeArgs.flags,
        );
        expect(chart.flags).toContain(`--max-old-space-size=${Math.floor(limitMiB / 2)}`);
      } else {
        // exactly what `gridstream run <service>` starts, in the chart and in Compose (heap
        // bound included: a service without it grows until the container's limit kills it)
        const run = serviceArgv(spec, {});
        const expected = ['node', ...run.slice(0, -1), relative(ROOT, mainFileOf(spec.entry))];
        expect(args, name).toEqual(expected);
        expect(composed, `${name} in docker-compose.yml`).toEqual(expected);
      }
    }
  });

  it('gives each container the variables Compose gives it: passwords from the Secret, the rest from the ConfigMap', () => {
    const configMaps = ofKind(full, 'ConfigMap');
    const secrets = ofKind(full, 'Secret');
    for (const [name, workload] of workloadsOf(full)) {
      const environment = compose.get(name)?.environment ?? {};
      const served = workload.container.readinessProbe !== undefined;
      const expected = [...Object.keys(environment), ...(served ? HEALTH_VARIABLES : [])];
      expect(envNames(workload.container), name).toEqual([...new Set(expected)].sort());
      expect(workload.container.envFrom, name).toBeUndefined();
      // a service's own variables (services.ts) with the same values in the chart and Compose
      const own = SERVICES.find((service) => service.name === name)?.defaultEnv ?? {};
      for (const [variable, value] of Object.entries(own)) {
        const chartValue = workload.container.env?.find((v) => v.name === variable)?.value;
        expect(chartValue, `${name} ${variable} in the chart`).toBe(value);
        expect(environment[variable], `${name} ${variable} in docker-compose.yml`).toBe(value);
      }
      for (const variable of workload.container.env ?? []) {
        const where = `${name} ${variable.name}`;
        const composed = environment[variable.name];
        const fromSecret = variable.valueFrom?.secretKeyRef;
        const fromConfigMap = variable.valueFrom?.configMapKeyRef;
        if (typeof composed === 'string' && composed.includes('${')) {
          // Compose takes it from .env: a password
          expect(fromSecret, where).toBeDefined();
          expect(variable.name, where).toMatch(/PASSWORD$/);
          const secret = secrets.find((s) => s.metadata.name === fromSecret?.name);
          expect(secret?.data?.[fromSecret?.key ?? ''], where).toBeDefined();
        } else if (LITERAL_VARIABLES.includes(variable.name)) {
          expect(variable.value, where).toBeDefined();
        } else {
          expect(fromConfigMap, where).toBeDefined();
          const configMap = configMaps.find((c) => c.metadata.name === fromConfigMap?.name);
          expect(configMap?.data?.[fromConfigMap?.key ?? ''], where).toBeDefined();
        }
      }
    }
  });

  it('probes every service on its own health port: /readyz for readiness, /healthz for liveness', () => {
    const withoutProbes: string[] = [];
    for (const [name, workload] of workloadsOf(full)) {
      if (workload.manifest.kind === 'Job') continue;
      const { container } = workload;
      if (container.readinessProbe === undefined) {
        withoutProbes.push(name);
        continue;
      }
      expect(container.readinessProbe.httpGet, name).toEqual({ path: '/readyz', port: 'health' });
      expect(container.livenessProbe?.httpGet, name).toEqual({ path: '/healthz', port: 'health' });
      const port = container.ports?.find((p) => p.name === 'health')?.containerPort;
      const source = container.env?.find((v) => v.name === 'GS_HEALTH_PORT')?.valueFrom
        ?.configMapKeyRef;
      const settings = named(full, 'ConfigMap', source?.name ?? '').data ?? {};
      expect(String(port), name).toBe(settings['GS_HEALTH_PORT']);
      expect(settings['GS_HEALTH_HOST'], name).toBe('0.0.0.0');
    }
    // the simulator is a CLI command (no runService, no health port)
    expect(withoutProbes).toEqual(['simulator']);
  });

  it("bounds each service's memory at its bound in services.ts, as request and limit", () => {
    for (const [name, workload] of workloadsOf(full)) {
      const resources = workload.container.resources;
      const bound = SERVICES.find((service) => service.name === name)?.memoryMiB;
      expect(resources?.limits?.memory, name).toMatch(/^\d+Mi$/);
      expect(resources?.requests?.memory, name).toBe(resources?.limits?.memory);
      if (bound !== undefined) expect(resources?.limits?.memory, name).toBe(`${bound}Mi`);
    }
  });

  it('covers each Deployment, and no other, with a PodDisruptionBudget', () => {
    const budgets = ofKind(full, 'PodDisruptionBudget');
    const deployments = ofKind(full, 'Deployment');
    const selects = (budget: Manifest, deployment: Manifest) => {
      const selector = (budget.spec?.selector as { matchLabels: Record<string, string> })
        .matchLabels;
      const labels = deployment.spec?.template?.metadata.labels ?? {};
      return Object.entries(selector).every(([key, value]) => labels[key] === value);
    };
    for (const deployment of deployments) {
      const covering = budgets.filter((budget) => selects(budget, deployment));
      expect(covering.length, deployment.metadata.name).toBe(1);
    }
    for (const budget of budgets)
      expect(deployments.filter((d) => selects(budget, d)).length, budget.metadata.name).toBe(1);
  });

  it('keeps every password in a Secret: none in a ConfigMap or any other object', () => {
    for (const manifest of full) {
      if (manifest.kind === 'Secret') continue;
      const text = JSON.stringify(manifest);
      for (const [name, password] of Object.entries(PASSWORDS))
        expect(
          text.includes(password),
          `${name} in ${manifest.kind} ${manifest.metadata.name}`,
        ).toBe(false);
      if (manifest.kind === 'ConfigMap')
        expect(Object.keys(manifest.data ?? {}).filter((key) => /PASSWORD/.test(key))).toEqual([]);
    }
    const secret = named(full, 'Secret', 'gs-gridstream');
    for (const [name, password] of Object.entries(PASSWORDS))
      expect(Buffer.from(secret.data?.[name] ?? '', 'base64').toString('utf8'), name).toBe(
        password,
      );
    // and a password put among the settings is refused
    return expect(render({ 'config.GS_MONGO_PASSWORD': 'oops' })).rejects.toThrow(
      /passwords go in secret.passwords/,
    );
  });

  it('runs as a user, not root, on a read-only root file system', () => {
    for (const [name, workload] of workloadsOf(full)) {
      expect(workload.pod.spec.securityContext?.runAsNonRoot, name).toBe(true);
      expect(workload.container.securityContext?.readOnlyRootFilesystem, name).toBe(true);
      expect(workload.container.securityContext?.allowPrivilegeEscalation, name).toBe(false);
    }
  });

  it('scales on the consumer groups the code names, with KEDA on, and leaves the replicas to it', () => {
    expect(ofKind(defaults, 'ScaledObject')).toEqual([]);
    const scaled = new Map(
      ofKind(full, 'ScaledObject').map((object) => [
        object.metadata.labels?.['app.kubernetes.io/component'] ?? '',
        object,
      ]),
    );
    expect([...scaled.keys()].sort()).toEqual(Object.keys(SCALED_GROUPS).sort());
    // site-energy and the sites projection run on one member at a time: more would stand by
    expect(siteEnergyProjection.parts).toBeUndefined();
    expect(sitesProjection.parts).toBeUndefined();
    const login = named(full, 'TriggerAuthentication', 'gs-gridstream-kafka');
    expect(login.spec?.secretTargetRef).toEqual([
      { parameter: 'password', name: 'gs-gridstream', key: 'GS_KAFKA_SASL_PASSWORD' },
    ]);
    expect(login.spec?.configMapTargetRef).toEqual([
      { parameter: 'username', name: 'gs-gridstream', key: 'GS_KAFKA_SASL_USERNAME' },
    ]);
    const settings = named(full, 'ConfigMap', 'gs-gridstream').data ?? {};
    for (const [name, object] of scaled) {
      const deployment = named(full, 'Deployment', object.spec?.scaleTargetRef?.name ?? '');
      expect(deployment.metadata.labels?.['app.kubernetes.io/component'], name).toBe(name);
      expect(deployment.spec?.replicas, `${name}: replicas left to KEDA`).toBeUndefined();
      expect(object.spec?.minReplicaCount, name).toBeGreaterThanOrEqual(1);
      const triggers = object.spec?.triggers ?? [];
      expect(
        triggers.map((t) => t.metadata['consumerGroup']),
        name,
      ).toEqual(SCALED_GROUPS[name]);
      for (const trigger of triggers) {
        expect(trigger.type).toBe('kafka');
        expect(trigger.metadata['bootstrapServers']).toBe(settings['GS_KAFKA_BROKERS']);
        expect(trigger.metadata['sasl']).toBe('scram_sha512');
        expect(trigger.authenticationRef?.name).toBe(login.metadata.name);
      }
    }
  });

  it('runs one MQTT bridge, replaced rather than rolled, and refuses two', async () => {
    expect(SERVICES.find((service) => service.name === 'mqtt-bridge')?.maxInstances).toBe(1);
    const bridge = named(full, 'Deployment', 'gs-gridstream-mqtt-bridge');
    expect(bridge.spec?.replicas).toBe(1);
    expect(bridge.spec?.strategy?.type).toBe('Recreate');
    await expect(render({ 'services.mqtt-bridge.replicas': '2' })).rejects.toThrow(
      /mqtt-bridge.replicas must be 1/,
    );
  });

  it('provisions the bridge account before the release is applied, from objects of its own', () => {
    const job = workloadsOf(defaults).get('mqtt-setup');
    expect(job?.manifest.kind).toBe('Job');
    expect(job?.manifest.metadata.annotations?.['helm.sh/hook']).toBe('pre-install,pre-upgrade');
    const hookWeight = (m: Manifest) => Number(m.metadata.annotations?.['helm.sh/hook-weight']);
    for (const variable of job?.container.env ?? []) {
      const ref = variable.valueFrom?.configMapKeyRef ?? variable.valueFrom?.secretKeyRef;
      const kind = variable.valueFrom?.configMapKeyRef === undefined ? 'Secret' : 'ConfigMap';
      const source = named(defaults, kind, ref?.name ?? '');
      // a hook made before the Job: the release's own objects do not exist yet on an install
      expect(hookWeight(source), variable.name).toBeLessThan(hookWeight(job?.manifest as Manifest));
    }
  });

  it('serves the API through its Service and, when enabled, the Ingress', () => {
    expect(ofKind(defaults, 'Ingress')).toEqual([]);
    const service = named(full, 'Service', 'gs-gridstream-api');
    const api = workloadsOf(full).get('api');
    const selector = service.spec?.selector as Record<string, string>;
    for (const [key, value] of Object.entries(selector))
      expect(api?.pod.metadata.labels[key]).toBe(value);
    const targetPort = service.spec?.ports?.[0]?.targetPort;
    expect(api?.container.ports?.find((p) => p.name === targetPort)?.containerPort).toBe(8080);
    const ingress = named(full, 'Ingress', 'gs-gridstream-api');
    const backend = ingress.spec?.rules?.[0]?.http.paths[0]?.backend.service;
    expect(backend).toEqual({ name: service.metadata.name, port: { name: 'http' } });
  });
});
