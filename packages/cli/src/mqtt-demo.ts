import mqtt from 'mqtt';
import type { Config } from '@gridstream/config';
import { connectMongo } from '@gridstream/mongo';
import { MqttAccounts, mqttSettings, TopicMappings } from '@gridstream/mqtt';

/**
 * `gridstream up`'s device over MQTT: a Shelly Plus Plug S of the demo tenant on the fleet's first
 * site, registered through the API as an owner would, with an MQTT account of the tenant and its
 * topic mapped, publishing a Shelly NotifyStatus (apower, voltage, current, aenergy.total) every
 * two seconds through the broker, as the real plug does with RPC status notifications over MQTT.
 */
export async function startMqttDemo(
  config: Config,
  options: { apiUrl: string; apiKey: string; tenant: string; siteId: string },
): Promise<{ deviceId: string; topic: string; stop(): Promise<void> }> {
  const deviceId = `${options.siteId}-shelly-plug`;
  const root = `gridstream/${options.tenant}/shelly/shellyplugs-demo`;
  const registered = await fetch(`${options.apiUrl}/v1/devices`, {
    method: 'POST',
    headers: { authorization: `Bearer ${options.apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      deviceId,
      siteId: options.siteId,
      kind: 'smart_plug',
      role: 'consumer',
      name: 'Shelly plug (over MQTT)',
      ratedPowerW: 2500,
    }),
  });
  if (!registered.ok)
    throw new Error(`registering ${deviceId}: ${registered.status} ${await registered.text()}`);
  const mongo = await connectMongo(config);
  try {
    await TopicMappings.open(mongo.db).put({
      tenant: options.tenant,
      root,
      format: 'shelly',
      channel: 0,
      deviceId,
    });
  } finally {
    await mongo.close();
  }
  const settings = mqttSettings();
  const accounts = await MqttAccounts.connect(settings);
  const { account, password } = await accounts.create(options.tenant, 'gridstream up demo plug');
  const client = await mqtt.connectAsync(settings.url, {
    username: account.username,
    password,
    clientId: 'shellyplugs-demo',
  });
  let totalWh = 0;
  let lastMs = Date.now();
  const timer = setInterval(() => {
    const now = Date.now();
    const powerW = 120 + 80 * Math.sin(now / 60_000);
    totalWh += (powerW * (now - lastMs)) / 3_600_000;
    lastMs = now;
    const voltage = 230 + Math.sin(now / 7_000);
    void client.publishAsync(
      `${root}/events/rpc`,
      JSON.stringify({
        src: 'shellyplugs-demo',
        dst: `${root}/events`,
        method: 'NotifyStatus',
        params: {
          ts: now / 1000,
          'switch:0': {
            id: 0,
            apower: Math.round(powerW * 10) / 10,
            voltage: Math.round(voltage * 10) / 10,
            current: Math.round((powerW / voltage) * 1000) / 1000,
            aenergy: { total: Math.round(totalWh * 1000) / 1000 },
          },
        },
      }),
      { qos: 1 },
    );
  }, 2_000);
  return {
    deviceId,
    topic: `${root}/events/rpc`,
    async stop() {
      clearInterval(timer);
      // Forced: with the broker gone, a graceful end waits for ever for the QoS 1 messages in
      // flight (Ctrl-C on `gridstream up` hung so after Mosquitto stopped); a demo's last
      // readings do not matter at shutdown.
      await client.endAsync(true);
      await accounts.revoke(account.username).catch(() => undefined);
      await accounts.close();
    },
  };
}
