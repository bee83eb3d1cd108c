import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The local stack's home (deploy/local/stack.sh): where it keeps the broker's account secrets. */
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../../..');

const port = z.coerce.number().int().min(1).max(65535);

const MqttEnv = z.object({
  GS_MQTT_PORT: port.default(1883),
  GS_MQTT_URL: z
    .string()
    .regex(/^mqtts?:\/\//, 'an mqtt:// or mqtts:// URL')
    .optional(),
  /** The bridge's account: it subscribes to every tenant's topics, and publishes nowhere. */
  GS_MQTT_USERNAME: z.string().min(1).default('gridstream-bridge'),
  GS_MQTT_PASSWORD: z.string().min(1).optional(),
  /** The broker's dynamic security admin: `gridstream keys mqtt` makes tenants' accounts with it. */
  GS_MQTT_ADMIN_USERNAME: z.string().min(1).default('admin'),
  GS_MQTT_ADMIN_PASSWORD: z.string().min(1).optional(),
  /** The bridge's client id: its persistent session at the broker is this id's. */
  GS_MQTT_CLIENT_ID: z.string().min(1).max(64).default('gridstream-bridge'),
  /** What the bridge subscribes to: every tenant's topics, or a part (a bridge per tenant). */
  GS_MQTT_SUBSCRIPTION: z.string().startsWith('gridstream/').default('gridstream/#'),
  GS_HOME: z.string().min(1).default(join(REPO_ROOT, '.gridstream')),
  /** Readings the bridge publishes to Kafka in one batch at most, and how long it gathers one. */
  GS_MQTT_BATCH_MESSAGES: z.coerce.number().int().min(1).max(100_000).default(500),
  GS_MQTT_BATCH_MS: z.coerce.number().int().min(0).max(10_000).default(20),
  /**
   * Messages the broker may send the bridge before it waits for their PUBACKs (MQTT 5); the bridge
   * also stops reading its socket while this many wait for Kafka.
   */
  GS_MQTT_RECEIVE_MAXIMUM: z.coerce.number().int().min(1).max(65_535).default(4_000),
});

export interface MqttSettings {
  readonly url: string;
  readonly username: string;
  readonly password: string | undefined;
  readonly adminUsername: string;
  readonly adminPassword: string | undefined;
  readonly clientId: string;
  readonly subscription: string;
  readonly batchMessages: number;
  readonly batchMs: number;
  readonly receiveMaximum: number;
}

function secretOf(home: string, name: string): string | undefined {
  try {
    return readFileSync(join(home, 'data/mosquitto', `${name}.secret`), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The MQTT settings from the environment. A password not set there is read from the local stack's
 * files (GS_HOME/data/mosquitto/*.secret, which deploy/local/stack.sh writes on the broker's first
 * start); elsewhere (Compose, Kubernetes) it comes from a secret. Throws a RangeError naming the
 * variable on a bad value.
 */
export function mqttSettings(
  env: Readonly<Record<string, string | undefined>> = process.env,
): MqttSettings {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = MqttEnv.safeParse(present);
  if (!parsed.success)
    throw new RangeError(
      parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '),
    );
  const e = parsed.data;
  return {
    url: e.GS_MQTT_URL ?? `mqtt://127.0.0.1:${e.GS_MQTT_PORT}`,
    username: e.GS_MQTT_USERNAME,
    password: e.GS_MQTT_PASSWORD ?? secretOf(e.GS_HOME, 'bridge'),
    adminUsername: e.GS_MQTT_ADMIN_USERNAME,
    adminPassword: e.GS_MQTT_ADMIN_PASSWORD ?? secretOf(e.GS_HOME, 'admin'),
    clientId: e.GS_MQTT_CLIENT_ID,
    subscription: e.GS_MQTT_SUBSCRIPTION,
    batchMessages: e.GS_MQTT_BATCH_MESSAGES,
    batchMs: e.GS_MQTT_BATCH_MS,
    receiveMaximum: e.GS_MQTT_RECEIVE_MAXIMUM,
  };
}
