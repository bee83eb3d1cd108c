import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DASHBOARD_PATH, startApi } from '@gridstream/api';
import type { RunningApi } from '@gridstream/api';
import type { DeviceKind, DeviceRole } from '@gridstream/events';
import { createKafka, kafkaSettings, createTopicsIfMissing, topicNames } from '@gridstream/kafka';
import { startAlertsProcessor } from '@gridstream/processor-alerts';
import { startArchive } from '@gridstream/processor-archive';
import { startEnergyProcessor } from '@gridstream/processor-energy';
import { startLiveProjection } from '@gridstream/projection';
import { alertsProjection } from '@gridstream/projection-alerts';
import { commandsProjection } from '@gridstream/projection-commands';
import { startRegistryProjections } from '@gridstream/projection-devices';
import { siteEnergyProjection } from '@gridstream/projection-site-energy';
import { bearer, eventually, isolatedConfig } from '../../../test/support.ts';
import { teardown } from '../../../test/cleanup.ts';

const config = isolatedConfig();
const tenant = 'dash';
const siteId = 'dash-site';
/** A second site, first by id, so the page opens on it and the test selects the other. */
const annex = { siteId: 'dash-annex', name: 'Garden annex', timeZone: 'Europe/Lisbon' };
const timeZone = 'Europe/Berlin';
const stopAfterAll = teardown(config);
/** Git-ignored; CI keeps it as the test's artifact. */
const SCREENSHOT = fileURLToPath(new URL('../../../test-artifacts/dashboard.png', import.meta.url));

/** Debian's chromium (./gridstream test installs it), or the one GS_CHROMIUM names. */
function chromiumPath(): string {
  const named = process.env['GS_CHROMIUM'];
  if (named !== undefined && named !== '') return named;
  for (const name of ['chromium', 'chromium-browser']) {
    try {
      return execFileSync('which', [name], { encoding: 'utf8' }).trim();
    } catch {
      // not this name
    }
  }
  throw new Error(
    'the dashboard test needs a Chromium: none on PATH (chromium, chromium-browser) and GS_CHROMIUM unset. ' +
      'Run test/ensure-chromium.sh (./gridstream test does), or: apt-get install -y chromium',
  );
}

const devices: {
  id: string;
  name: string;
  kind: DeviceKind;
  role: DeviceRole;
  ratedPowerW?: number;
}[] = [
  { id: 'dash-meter', name: 'Grid connection', kind: 'meter', role: 'grid' },
  { id: 'dash-pv', name: 'Rooftop PV', kind: 'solar_inverter', role: 'producer' },
  { id: 'dash-plug', name: 'Kettle plug', kind: 'smart_plug', role: 'consumer', ratedPowerW: 2000 },
];

const annexPlug = {
  deviceId: 'dash-annex-plug',
  kind: 'smart_plug',
  role: 'consumer',
  name: 'Heat pump plug',
};

/** A device's registration as POST /v1/devices/batch takes it. */
function registration(device: (typeof devices)[number]) {
  return {
    deviceId: device.id,
    siteId,
    kind: device.kind,
    role: device.role,
    name: device.name,
    ...(device.ratedPowerW === undefined ? {} : { ratedPowerW: device.ratedPowerW }),
  };
}

/**
 * The day before yesterday in the site's time zone, YYYY-MM-DD: a closed day the energy bars
 * must show. Not yesterday: in the first minutes after local midnight the live readings below
 * (the last ten minutes) fall on yesterday and add their power to its energy (a CI run at
 * 00:06 in Berlin saw 679 Wh of production instead of 600).
 */
function dayBeforeYesterday(): string {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone }).format(new Date());
  return new Date(Date.parse(`${today}T12:00:00Z`) - 2 * 86_400_000).toISOString().slice(0, 10);
}

let api: RunningApi;
let browser: Browser;
let readKey: string;
/** The ids of the keys that registered the devices and commanded the plug: who in its history. */
let managerKeyId = '';
let commanderKeyId = '';
const keyIdOf = (authorization: string) => authorization.slice('Bearer gs_'.length, 22);

beforeAll(async () => {
  const executablePath = chromiumPath();
  const kafka = createKafka(kafkaSettings(config, 'e2e-dashboard'));
  const topics = topicNames(config.GS_TOPIC_PREFIX);
  await createTopicsIfMissing(kafka, topics, config.GS_TOPIC_PARTITIONS);
  const services = await Promise.all([
    startEnergyProcessor(config),
    startAlertsProcessor(config),
    startArchive(config),
    startRegistryProjections(config, { lagLogIntervalMs: 0 }),
    startLiveProjection(config, siteEnergyProjection, { lagLogIntervalMs: 0 }),
    startLiveProjection(config, alertsProjection, { lagLogIntervalMs: 0 }),
    startLiveProjection(config, commandsProjection, { lagLogIntervalMs: 0 }),
  ]);
  for (const service of services) stopAfterAll(() => service.stop());
  api = await startApi(config);
  stopAfterAll(() => api.close());
  browser = await chromium.launch({
    executablePath,
    headless: true,
    // Chromium's sandbox refuses to run as root (CI containers); the page is our own.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
  stopAfterAll(() => browser.close());
  readKey = (await api.apiKeys.create({ tenant, scopes: ['read'] })).key;

  // given the site and its devices registered through the API, as their owner would
  const manage = { authorization: await bearer(api, tenant, ['manage']) };
  for (const site of [{ siteId, name: 'Dashboard home', timeZone }, annex]) {
    const registered = await api.app.inject({
      method: 'POST',
      url: '/v1/sites',
      headers: manage,
      payload: site,
    });
    expect(registered.statusCode, registered.body).toBe(201);
  }
  const batch = await api.app.inject({
    method: 'POST',
    url: '/v1/devices/batch',
    headers: manage,
    payload: {
      devices: [
        ...devices.map(registration),
        { ...annexPlug, name: 'Annex plug', siteId: annex.siteId },
      ],
    },
  });
  expect(batch.json()).toMatchObject({ registered: 4, refused: 0 });
  managerKeyId = keyIdOf(manage.authorization);
  // and the annex's plug renamed
  const renamed = await api.app.inject({
    method: 'PATCH',
    url: `/v1/devices/${annexPlug.deviceId}`,
    headers: manage,
    payload: { name: annexPlug.name },
  });
  expect(renamed.json()).toMatchObject({ outcome: 'changed' });

  // given counters of the day before yesterday from 10:00 to 11:00 UTC (closed quarter hours),
  // then the last ten minutes of power, with the plug above its 2 kW rating (a power-threshold
  // alert)
  const ingest = { authorization: await bearer(api, tenant, ['ingest']) };
  const day = dayBeforeYesterday();
  const history = [];
  for (let i = 0; i <= 12; i++) {
    const time = new Date(Date.parse(`${day}T10:00:00Z`) + i * 300_000).toISOString();
    history.push(
      { deviceId: 'dash-meter', time, importWh: 1_000 + i * 20, exportWh: 500 + i * 10 },
      { deviceId: 'dash-pv', time, exportWh: 7_000 + i * 50 },
    );
  }
  const nowMs = Date.now();
  const live = [];
  for (let i = 20; i >= 0; i--) {
    const time = new Date(nowMs - i * 30_000).toISOString();
    live.push(
      { deviceId: 'dash-meter', time, powerW: 400 + i * 10 },
      // Production is negative power (docs/energy.md, sign convention).
      { deviceId: 'dash-pv', time, powerW: -(1_500 + i * 20) },
      { deviceId: 'dash-plug', time, powerW: i < 3 ? 2_500 : 60 },
    );
  }
  for (const readings of [history, live]) {
    const posted = await api.app.inject({
      method: 'POST',
      url: '/v1/readings',
      headers: ingest,
      payload: { readings },
    });
    expect(posted.statusCode).toBe(202);
  }
  // and a command to the plug
  const command = await bearer(api, tenant, ['command']);
  commanderKeyId = keyIdOf(command);
  const commanded = await api.app.inject({
    method: 'POST',
    url: '/v1/devices/dash-plug/commands',
    headers: { authorization: command, 'idempotency-key': 'dashboard-e2e-1' },
    payload: { action: 'switch_off' },
  });
  expect(commanded.statusCode).toBe(202);

  // when every read model has it (the page shows whatever is there when it loads)
  const read = { authorization: `Bearer ${readKey}` };
  const answer = async (url: string) => {
    const response = await api.app.inject({ method: 'GET', url, headers: read });
    return response.statusCode === 200 ? response.json<Record<string, unknown[]>>() : undefined;
  };
  await eventually(
    "devices, the closed day's energy, the alert, the command and the readings",
    async () => {
      const checks = await Promise.all([
        answer(`/v1/devices?siteId=${siteId}`).then((b) => b?.['devices']?.length === 3),
        answer('/v1/sites').then((b) => b?.['sites']?.length === 2),
        answer(`/v1/devices/${annexPlug.deviceId}`).then(
          (b) => (b as { name?: string } | undefined)?.name === annexPlug.name,
        ),
        answer(`/v1/sites/${siteId}/energy/days/${day}`).then((b) => b !== undefined),
        answer(`/v1/alerts?siteId=${siteId}&kind=power-threshold`).then(
          (b) => (b?.['alerts']?.length ?? 0) > 0,
        ),
        answer('/v1/devices/dash-plug/commands').then((b) => (b?.['commands']?.length ?? 0) > 0),
        answer('/v1/devices/dash-plug/readings').then((b) => (b?.['readings']?.length ?? 0) > 0),
      ]);
      return checks.every(Boolean) ? true : undefined;
    },
    90_000,
  );
});

describe('the dashboard page (headless Chromium, the API over HTTP on the real stack)', () => {
  it('shows the sites, devices, live power, daily energy, commands and alerts the key may read', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
    const failures: string[] = [];
    page.on('pageerror', (error) => failures.push(error.message));
    page.on('console', (message) => {
      // A day without energy yet is a 404 the page expects; Chromium logs it all the same.
      if (message.type() === 'error' && !message.text().includes('status of 404'))
        failures.push(message.text());
    });

    // when the page is opened with the read key in its fragment
    await page.goto(`${api.url}${DASHBOARD_PATH}#key=${readKey}`);

    // then it lists the registered sites by name, with their zone, status and devices in service
    await page.locator(`#sites [data-site-id="${siteId}"]`).waitFor();
    expect(await page.locator('#sites [data-site-id]').count()).toBe(2);
    expect(await page.locator(`#sites [data-site-id="${siteId}"]`).innerText()).toMatch(
      /Dashboard home\s+dash-site · Europe\/Berlin\s+open · 3 devices in service/,
    );
    expect(await page.locator(`#sites [data-site-id="${annex.siteId}"]`).innerText()).toMatch(
      /Garden annex\s+dash-annex · Europe\/Lisbon\s+open · 1 device in service/,
    );
    expect(await page.locator('#sites-pager').isHidden()).toBe(true);
    // and opens on the first, listing only its device
    await page.locator(`#devices tr[data-device-id="${annexPlug.deviceId}"]`).waitFor();
    expect(await page.locator('#devices tr[data-device-id]').count()).toBe(1);
    // whose history says it was registered and renamed, newest first, and who did it
    await page.locator(`#devices tr[data-device-id="${annexPlug.deviceId}"]`).click();
    await page.locator('#history-events tr[data-type="gridstream.device.updated.v1"]').waitFor();
    const annexHistory = await page
      .locator('#history-events tr[data-type^="gridstream.device."]')
      .allInnerTexts();
    expect(annexHistory).toHaveLength(2);
    expect(annexHistory[0]).toMatch(
      new RegExp(`updated: renamed "Annex plug" → "Heat pump plug"\\s+key:${managerKeyId}`),
    );
    expect(annexHistory[1]).toMatch(
      new RegExp(
        `registered on site dash-annex as smart_plug \\(consumer\\), named "Annex plug"\\s+key:${managerKeyId}`,
      ),
    );
    expect(new URL(page.url()).search).toBe(`?site=dash-annex&device=${annexPlug.deviceId}`);

    // when the other site is selected, it lists its devices by name, with their live data
    await page.locator(`#sites [data-site-id="${siteId}"]`).click();
    await page.locator('#devices tr[data-device-id]').nth(2).waitFor();
    expect(await page.locator('#history').isHidden()).toBe(true);
    expect(await page.locator('#devices tr[data-device-id]').count()).toBe(3);
    const deviceTable = await page.locator('#devices').innerText();
    for (const device of devices) expect(deviceTable).toContain(device.name);
    expect(await page.locator('#devices tr[data-device-id="dash-plug"]').innerText()).toMatch(
      /online[\s\S]*2500 W/,
    );
    // and draws the live power of each device as a line of points
    await page.locator('#power polyline.series').nth(2).waitFor();
    const lines = await page.locator('#power polyline.series').all();
    const points = await Promise.all(
      lines.map(async (line) => Number(await line.getAttribute('data-points'))),
    );
    expect(points).toHaveLength(3);
    for (const count of points) expect(count).toBeGreaterThanOrEqual(15);
    // and that day's energy as bars: 600 Wh of PV production, 240 Wh imported from the grid
    await page.locator('#energy rect.bar').first().waitFor();
    const bars = await Promise.all(
      (await page.locator('#energy rect.bar').all()).map(async (bar) => [
        await bar.getAttribute('data-measure'),
        Number(await bar.getAttribute('data-value')),
      ]),
    );
    expect(bars).toContainEqual(['production', 600]);
    expect(bars).toContainEqual(['grid import', 240]);
    // and the recent command and alert
    await page.locator('#commands tr[data-command-id]').first().waitFor();
    expect(await page.locator('#commands').innerText()).toMatch(/switch_off\s+dash-plug/);
    await page.locator('#alerts tr[data-alert-id]').first().waitFor();
    expect(await page.locator('#alerts').innerText()).toContain('power-threshold');
    // and follows the live stream: a new reading is drawn as it arrives, with no query
    await page.locator('#power[data-live="stream"]').waitFor();
    const meterPoints = async () =>
      Number(
        await page
          .locator('#power polyline[data-series="Grid connection"]')
          .getAttribute('data-points'),
      );
    const before = await meterPoints();
    const posted = await api.app.inject({
      method: 'POST',
      url: '/v1/readings',
      headers: { authorization: await bearer(api, tenant, ['ingest']) },
      payload: {
        readings: [{ deviceId: 'dash-meter', time: new Date().toISOString(), powerW: 4321 }],
      },
    });
    expect(posted.statusCode).toBe(202);
    // (the page's content security policy forbids string evaluation, so the test polls)
    await eventually(
      'the new reading on the chart',
      async () => ((await meterPoints()) > before ? true : undefined),
      4_000,
    );
    expect(await meterPoints()).toBe(before + 1);
    expect(await page.locator('#power').getAttribute('data-live')).toBe('stream');
    // and the plug's history says who registered it and who asked for its command, newest first
    await page.locator('#devices tr[data-device-id="dash-plug"]').click();
    const requested = page.locator(
      '#history-events tr[data-type="gridstream.command.requested.v1"]',
    );
    await requested.waitFor();
    expect(await requested.innerText()).toMatch(
      new RegExp(`command switch_off requested\\s+key:${commanderKeyId}`),
    );
    const registered = page.locator(
      '#history-events tr[data-type="gridstream.device.registered.v2"]',
    );
    await registered.waitFor();
    expect(await registered.innerText()).toMatch(
      new RegExp(
        `registered on site dash-site as smart_plug \\(consumer\\), named "Kettle plug", rated 2000 W\\s+key:${managerKeyId}`,
      ),
    );
    const plugHistory = await page.locator('#history-events tr').allInnerTexts();
    expect(plugHistory.findIndex((line) => line.includes('switch_off requested'))).toBeLessThan(
      plugHistory.findIndex((line) => line.includes('registered on site')),
    );
    // and the key left the address bar (it is kept in the tab's sessionStorage only)
    expect(page.url()).not.toContain('key=');
    expect(failures).toEqual([]);

    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    process.stdout.write(`dashboard screenshot: ${SCREENSHOT}\n`);
    await page.close();
  });

  it('asks for a key when it has none, and again when the API refuses the one it has', async () => {
    const page = await browser.newPage();
    await page.goto(`${api.url}${DASHBOARD_PATH}`);
    await page.locator('#key-form').waitFor({ state: 'visible' });
    expect(await page.locator('#devices tr').count()).toBe(0);
    await page.close();

    const refused = await browser.newPage();
    await refused.goto(`${api.url}${DASHBOARD_PATH}#key=gs_000000000000_${'x'.repeat(43)}`);
    await refused.locator('#key-form').waitFor({ state: 'visible' });
    expect(await refused.locator('#status').innerText()).toContain('unknown or revoked');
    await refused.close();
  });
});
