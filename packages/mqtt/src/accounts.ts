import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import type { MqttClient } from 'mqtt';
import type { MqttSettings } from './settings.ts';

/**
 * Tenants' MQTT accounts, kept by Mosquitto's dynamic security plugin and managed through its
 * control topic (https://mosquitto.org/documentation/dynamic-security/), so the same code manages
 * the local stack's broker and one in Compose or Kubernetes. Each tenant has a role that may
 * publish and subscribe under `gridstream/<tenant>/` and nowhere else; each account has that role
 * alone. The plugin's defaults deny publishing and subscribing to anything a role does not allow,
 * and the broker admits no anonymous client.
 */

const CONTROL_TOPIC = '$CONTROL/dynamic-security/v1';
const RESPONSE_TOPIC = `${CONTROL_TOPIC}/response`;

/** The topics a tenant's devices may use. */
export function tenantTopicFilter(tenant: string): string {
  return `gridstream/${tenant}/#`;
}

export function tenantRole(tenant: string): string {
  return `tenant:${tenant}`;
}

export interface MqttAccount {
  readonly username: string;
  readonly tenant: string;
  readonly name: string;
  readonly disabled: boolean;
}

interface DynsecResponse {
  readonly command: string;
  readonly error?: string;
  readonly data?: unknown;
}

type DynsecCommand = { readonly command: string } & Record<string, unknown>;

const TEXT_PREFIX = 'gridstream tenant ';

/** A connection to the broker as its dynamic security admin. */
export class MqttAccounts {
  private queue: Promise<unknown> = Promise.resolve();
  private waiting: ((responses: readonly DynsecResponse[]) => void) | undefined;

  private readonly client: MqttClient;

  private constructor(client: MqttClient) {
    this.client = client;
    client.on('message', (topic, payload) => {
      if (topic !== RESPONSE_TOPIC) return;
      const answer = JSON.parse(payload.toString('utf8')) as { responses?: DynsecResponse[] };
      const waiting = this.waiting;
      this.waiting = undefined;
      waiting?.(answer.responses ?? []);
    });
  }

  static async connect(settings: MqttSettings): Promise<MqttAccounts> {
    if (settings.adminPassword === undefined)
      throw new Error(
        'no MQTT admin password: set GS_MQTT_ADMIN_PASSWORD (the local stack keeps it in GS_HOME/data/mosquitto/admin.secret once the broker has started)',
      );
    const client = await mqtt.connectAsync(settings.url, {
      username: settings.adminUsername,
      password: settings.adminPassword,
      clientId: `gridstream-admin-${randomBytes(4).toString('hex')}`,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
    });
    await client.subscribeAsync(RESPONSE_TOPIC, { qos: 1 });
    return new MqttAccounts(client);
  }

  /** Runs commands in one request; rejects with the first error the plugin answers. */
  private run(commands: readonly DynsecCommand[], tolerate: readonly string[] = []) {
    const next = this.queue.then(async () => {
      let timer: NodeJS.Timeout | undefined;
      const answered = new Promise<readonly DynsecResponse[]>((resolve, reject) => {
        timer = setTimeout(() => {
          this.waiting = undefined;
          reject(new Error('the MQTT broker did not answer a dynamic security command in 10 s'));
        }, 10_000);
        this.waiting = (responses) => {
          clearTimeout(timer);
          resolve(responses);
        };
      });
      // Both awaited at once: a publish that fails ends the wait for its response, and one that
      // never completes (the broker gone) ends at the wait's 10 s. Awaited one after the other,
      // the wait's rejection went unhandled when the publish failed first, and took `gridstream
      // up` down while it stopped after the broker had gone.
      let responses: readonly DynsecResponse[];
      try {
        [, responses] = await Promise.all([
          this.client.publishAsync(CONTROL_TOPIC, JSON.stringify({ commands }), { qos: 1 }),
          answered,
        ]);
      } finally {
        clearTimeout(timer);
        this.waiting = undefined;
      }
      const failed = responses.find((r) => r.error !== undefined && !tolerate.includes(r.error));
      if (failed !== undefined)
        throw new Error(`the MQTT broker refused ${failed.command}: ${failed.error}`);
      return responses;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The tenant's role, made if missing (and its ACLs set again if it was). */
  private async ensureRole(tenant: string): Promise<void> {
    const rolename = tenantRole(tenant);
    const filter = tenantTopicFilter(tenant);
    await this.run(
      [
        { command: 'createRole', rolename, textname: `${TEXT_PREFIX}${tenant}` },
        ...(['publishClientSend', 'subscribePattern'] as const).map((acltype) => ({
          command: 'addRoleACL',
          rolename,
          acltype,
          topic: filter,
          priority: 0,
          allow: true,
        })),
      ],
      ['Role already exists', 'ACL with this topic already exists'],
    );
  }

  /** A new account of the tenant, with a random password returned once. */
  async create(tenant: string, name = ''): Promise<{ account: MqttAccount; password: string }> {
    await this.ensureRole(tenant);
    const username = `${tenant}-${randomBytes(5).toString('hex')}`;
    const password = randomBytes(24).toString('base64url');
    await this.run([
      {
        command: 'createClient',
        username,
        password,
        textname: `${TEXT_PREFIX}${tenant}`,
        textdescription: name,
        roles: [{ rolename: tenantRole(tenant) }],
      },
    ]);
    return { account: { username, tenant, name, disabled: false }, password };
  }

  /** Every tenant's accounts (or one tenant's); the plugin's own and the bridge's are left out. */
  async list(tenant?: string): Promise<MqttAccount[]> {
    const [response] = await this.run([{ command: 'listClients', verbose: true, count: -1 }]);
    const clients =
      (response?.data as { clients?: Record<string, unknown>[] } | undefined)?.clients ?? [];
    const accounts: MqttAccount[] = [];
    for (const client of clients) {
      const text = typeof client.textname === 'string' ? client.textname : '';
      if (!text.startsWith(TEXT_PREFIX)) continue;
      const owner = text.slice(TEXT_PREFIX.length);
      if (tenant !== undefined && owner !== tenant) continue;
      accounts.push({
        username: String(client.username),
        tenant: owner,
        name: typeof client.textdescription === 'string' ? client.textdescription : '',
        disabled: client.disabled === true,
      });
    }
    return accounts.sort((a, b) => a.username.localeCompare(b.username));
  }

  /**
   * The bridge's account and role (subscribe to every tenant's topics, publish nowhere), made if
   * missing and its password set to this one: what deploy/local/stack.sh does with mosquitto_ctrl
   * on a broker's first start, for a broker elsewhere (docker-compose.yml's mqtt-setup).
   */
  async provisionBridge(username: string, password: string): Promise<void> {
    const rolename = 'gridstream-bridge';
    await this.run(
      [
        { command: 'createRole', rolename },
        ...(['subscribePattern', 'publishClientReceive'] as const).map((acltype) => ({
          command: 'addRoleACL',
          rolename,
          acltype,
          topic: 'gridstream/#',
          priority: 0,
          allow: true,
        })),
        { command: 'createClient', username, password, roles: [{ rolename }] },
      ],
      ['Role already exists', 'ACL with this topic already exists', 'Client already exists'],
    );
    await this.run([
      { command: 'setClientPassword', username, password },
      { command: 'addClientRole', username, rolename },
    ]);
  }

  /** Deletes an account: a client connected with it is disconnected by the broker at once. */
  async revoke(username: string): Promise<boolean> {
    const accounts = await this.list();
    if (!accounts.some((account) => account.username === username)) return false;
    await this.run([{ command: 'deleteClient', username }]);
    return true;
  }

  async close(): Promise<void> {
    await this.client.endAsync();
  }
}
