// @ts-check
// The dashboard: one tenant's sites and devices, live power, daily energy, recent commands and
// alerts, all read from the /v1 API with the key the user gives. The key arrives in the URL
// fragment (`#key=...`, which the browser never sends to a server), is kept in sessionStorage
// for this tab only, and the fragment is then removed from the address bar.
import { barChart, lineChart, SERIES_COLOURS } from './charts.js';
import { openStream } from './live.js';

const KEY_STORAGE = 'gridstream.apiKey';
/** How often live power, devices, alerts and commands are read again. */
const REFRESH_MS = 5_000;
/** Daily energy changes once a quarter hour: read it less often. */
const ENERGY_REFRESH_MS = 60_000;
const POWER_WINDOW_MS = 15 * 60_000;
const ENERGY_DAYS = 7;

/**
 * @typedef {{ deviceId: string, siteId?: string, name?: string, kind?: string, role?: string,
 *   timeZone?: string, status: string, connectivity?: string, lastSeenAt?: string,
 *   lastReading?: { time: string, powerW?: number },
 *   today?: { date: string, importWh: number, exportWh: number } }} Device
 * @typedef {{ alertId: string, kind: string, deviceId: string, status: string, raisedAt: string,
 *   clearedAt?: string }} Alert
 * @typedef {{ commandId: string, deviceId: string, action?: string, status: string,
 *   requestedAt?: string, latencyMs?: number, attempts: number }} Command
 * @typedef {{ gridImportWh: number | null, gridExportWh: number | null, productionWh: number,
 *   consumptionWh: number }} SiteTotals
 * @typedef {{ siteId: string, name?: string, timeZone?: string, status?: string,
 *   activeDevices?: number, today?: { gridImportWh?: number | null, productionWh?: number } }} Site
 * @typedef {{ id: string, type: string, time: string, data: Record<string, unknown> }} HistoryEvent
 */

class ApiError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** @param {string} id @returns {HTMLElement} */
function byId(id) {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`the page has no #${id}`);
  return element;
}

/**
 * @param {string} tag
 * @param {Record<string, string>} [attributes]
 * @param {(Node | string)[]} [children]
 */
function el(tag, attributes = {}, children = []) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  element.append(...children);
  return element;
}

function takeKey() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const fromFragment = fragment.get('key');
  if (fromFragment !== null && fromFragment !== '') {
    sessionStorage.setItem(KEY_STORAGE, fromFragment);
    history.replaceState(null, '', `${location.pathname}${location.search}`);
  }
  return sessionStorage.getItem(KEY_STORAGE);
}

/**
 * GET a /v1 path with the key; undefined for a 404 (a day without energy yet).
 * @param {string} key
 * @param {string} path
 * @returns {Promise<any>}
 */
async function get(key, path) {
  const response = await fetch(path, { headers: { authorization: `Bearer ${key}` } });
  if (response.status === 404) return undefined;
  if (!response.ok) {
    /** @type {{ message?: string }} */
    const body = await response.json().catch(() => ({}));
    throw new ApiError(response.status, `${path}: ${body.message ?? response.statusText}`);
  }
  return response.json();
}

/** A colour key; set through the CSSOM, which the page's content security policy allows. */
function swatch(/** @type {number} */ index) {
  const element = el('span', { class: 'swatch' });
  element.style.background = SERIES_COLOURS[index % SERIES_COLOURS.length] ?? '#000';
  return element;
}

/** @param {number | null | undefined} wh */
const kWh = (wh) => (wh === null || wh === undefined ? '–' : `${(wh / 1000).toFixed(2)} kWh`);
/** @param {string | undefined} time */
const shortTime = (time) =>
  time === undefined
    ? '–'
    : new Date(time).toLocaleString([], { dateStyle: 'short', timeStyle: 'medium' });

/**
 * The local calendar day `daysBack` days before now in a time zone, YYYY-MM-DD.
 * @param {string} timeZone
 * @param {number} daysBack
 */
function localDate(timeZone, daysBack) {
  const today = new Intl.DateTimeFormat('en-CA', { timeZone }).format(new Date());
  const utcNoon = Date.parse(`${today}T12:00:00Z`) - daysBack * 86_400_000;
  return new Date(utcNoon).toISOString().slice(0, 10);
}

class Dashboard {
  /** @param {string} key */
  constructor(key) {
    this.key = key;
    /** @type {Device[]} */
    this.devices = [];
    /** @type {string | undefined} */
    this.siteId = new URLSearchParams(location.search).get('site') ?? undefined;
    this.energyReadAtMs = 0;
    /** @type {Map<string, Map<number, number>>} each device's power (W) by time (ms) */
    this.power = new Map();
    /** Whether `power` holds the whole window (read with the queries) since the stream began. */
    this.powerLoaded = false;
    /** @type {{ siteId: string, stream: { stop: () => void }, connected: boolean } | undefined} */
    this.live = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.drawTimer = undefined;
    /** @type {string | undefined} the device whose history is shown */
    this.historyDeviceId = undefined;
  }

  /** @param {string} path */
  get(path) {
    return get(this.key, path);
  }

  get siteDevices() {
    return this.devices.filter((d) => d.siteId === this.siteId);
  }

  async refresh() {
    /** @type {[{ devices: Device[] }, { sites: Site[] }]} */
    const [listed, registered] = await Promise.all([
      this.get('/v1/devices?limit=1000'),
      this.get('/v1/sites?limit=500'),
    ]);
    this.devices = listed.devices;
    // the registry's sites, and any site its devices name that was never registered as one
    const known = new Map(registered.sites.map((site) => [site.siteId, site]));
    for (const d of this.devices)
      if (d.siteId !== undefined && !known.has(d.siteId)) known.set(d.siteId, { siteId: d.siteId });
    const sites = [...known.values()].sort((a, b) => a.siteId.localeCompare(b.siteId));
    const ids = sites.map((site) => site.siteId);
    if (this.siteId === undefined || !ids.includes(this.siteId)) this.siteId = ids[0];
    this.renderSites(sites);
    this.renderDevices();
    if (this.historyDeviceId !== undefined) await this.renderHistory();
    const energyDue = Date.now() - this.energyReadAtMs > ENERGY_REFRESH_MS;
    await Promise.all([
      this.renderPower(),
      this.renderAlerts(),
      this.renderCommands(),
      energyDue ? this.renderEnergy() : Promise.resolve(),
    ]);
    byId('status').textContent = `updated ${new Date().toLocaleTimeString()}`;
  }

  /** @param {string} siteId */
  selectSite(siteId) {
    this.siteId = siteId;
    this.energyReadAtMs = 0;
    history.replaceState(null, '', `${location.pathname}?site=${encodeURIComponent(siteId)}`);
    this.refresh().catch(showError);
  }

  /** @param {Site[]} sites */
  renderSites(sites) {
    const list = byId('sites');
    list.replaceChildren(
      ...sites.map((site) => {
        const siteId = site.siteId;
        const devices = this.devices.filter((d) => d.siteId === siteId);
        const online = devices.filter((d) => d.connectivity === 'online').length;
        const inService = site.activeDevices ?? devices.length;
        const today =
          site.today === undefined ? '' : `, today ${kWh(site.today.gridImportWh)} from the grid`;
        const button = el('button', { type: 'button', 'data-site-id': siteId }, [
          el('strong', {}, [site.name ?? siteId]),
          el('span', { class: 'muted' }, [
            `${inService} devices, ${online} online${today}${site.status === 'closed' ? ', closed' : ''}`,
          ]),
        ]);
        if (siteId === this.siteId) button.classList.add('selected');
        button.addEventListener('click', () => {
          this.selectSite(siteId);
        });
        return el('li', {}, [button]);
      }),
    );
    if (sites.length === 0)
      list.replaceChildren(el('li', { class: 'muted' }, ['no devices registered yet']));
    const selected = sites.find((site) => site.siteId === this.siteId);
    byId('site-title').textContent =
      selected === undefined
        ? ''
        : `${selected.name ?? selected.siteId}${selected.timeZone === undefined ? '' : ` (${selected.timeZone})`}`;
  }

  renderDevices() {
    byId('devices').replaceChildren(
      ...this.siteDevices.map((d, index) =>
        this.clickable(
          el('tr', { 'data-device-id': d.deviceId }, [
            el('td', {}, [swatch(index), d.name ?? d.deviceId]),
            el('td', { class: 'muted' }, [d.deviceId]),
            el('td', {}, [d.kind ?? '–']),
            el('td', { class: `connectivity ${d.connectivity ?? ''}` }, [
              d.status === 'active' ? (d.connectivity ?? '–') : d.status,
            ]),
            el('td', { class: 'number' }, [
              d.lastReading?.powerW === undefined ? '–' : `${Math.round(d.lastReading.powerW)} W`,
            ]),
            el('td', { class: 'number' }, [
              d.today === undefined ? '–' : `${kWh(d.today.importWh)} / ${kWh(d.today.exportWh)}`,
            ]),
            el('td', {}, [shortTime(d.lastReading?.time)]),
          ]),
          d.deviceId,
        ),
      ),
    );
  }

  /**
   * A device's row opens its history.
   * @param {HTMLElement} row @param {string} deviceId
   */
  clickable(row, deviceId) {
    row.classList.add('clickable');
    row.title = 'show its history';
    row.addEventListener('click', () => {
      this.historyDeviceId = deviceId;
      this.renderHistory().catch(showError);
    });
    return row;
  }

  /** Who did what to the selected device and when, newest first (registry, commands, alerts). */
  async renderHistory() {
    const deviceId = this.historyDeviceId;
    if (deviceId === undefined) return;
    /** @type {{ events: HistoryEvent[] } | undefined} */
    const body = await this.get(`/v1/devices/${encodeURIComponent(deviceId)}/history?limit=1000`);
    const events = (body?.events ?? [])
      .filter((e) => !e.type.startsWith('gridstream.energy.'))
      .reverse()
      .slice(0, 50);
    const panel = byId('history');
    panel.hidden = false;
    byId('history-device').textContent = deviceId;
    byId('history-events').replaceChildren(
      ...events.map((e) =>
        el('tr', { 'data-event-id': e.id, 'data-type': e.type }, [
          el('td', {}, [shortTime(e.time)]),
          el('td', {}, [describeEvent(e)]),
          el('td', {}, [actorOf(e)]),
        ]),
      ),
    );
    if (events.length === 0)
      byId('history-events').replaceChildren(emptyRow(3, 'nothing recorded yet'));
  }

  /**
   * Live power: the window is read with the queries once, then each reading comes from the
   * stream as it arrives. While the stream is down the window is read again at every refresh.
   */
  async renderPower() {
    const siteId = this.siteId;
    if (siteId === undefined) return;
    if (this.live?.siteId !== siteId) this.follow(siteId);
    if (!this.powerLoaded || this.live?.connected !== true) await this.loadPower();
    this.drawPower();
  }

  /** @param {string} siteId */
  follow(siteId) {
    this.live?.stream.stop();
    this.power = new Map();
    this.powerLoaded = false;
    const live = {
      siteId,
      connected: false,
      stream: openStream({
        path: `/v1/stream?kinds=reading&siteId=${encodeURIComponent(siteId)}`,
        key: this.key,
        onConnected: (connected) => {
          live.connected = connected;
          // After a break, read the window again: the stream may not have all that was missed.
          if (!connected) this.powerLoaded = false;
          byId('power').dataset['live'] = connected ? 'stream' : 'poll';
        },
        onMessage: (message) => {
          if (message.event === 'reset') this.powerLoaded = false;
          if (message.event !== 'reading') return;
          /** @type {{ subject: string, time: string, data: { powerW?: number } }} */
          const reading = JSON.parse(message.data);
          if (reading.data.powerW === undefined) return;
          this.addPower(reading.subject, Date.parse(reading.time), reading.data.powerW);
          this.drawTimer ??= setTimeout(() => {
            this.drawTimer = undefined;
            this.drawPower();
          }, 250);
        },
      }),
    };
    byId('power').dataset['live'] = 'poll';
    this.live = live;
  }

  /** @param {string} deviceId @param {number} timeMs @param {number} powerW */
  addPower(deviceId, timeMs, powerW) {
    let series = this.power.get(deviceId);
    if (series === undefined) this.power.set(deviceId, (series = new Map()));
    series.set(timeMs, powerW);
  }

  async loadPower() {
    const toMs = Date.now();
    const fromMs = toMs - POWER_WINDOW_MS;
    const range = `from=${new Date(fromMs).toISOString()}&to=${new Date(toMs).toISOString()}`;
    await Promise.all(
      this.siteDevices.map(async (d) => {
        /** @type {{ readings: { time: string, powerW?: number }[] }} */
        const body = await this.get(
          `/v1/devices/${encodeURIComponent(d.deviceId)}/readings?${range}`,
        );
        for (const r of body.readings)
          if (r.powerW !== undefined) this.addPower(d.deviceId, Date.parse(r.time), r.powerW);
      }),
    );
    this.powerLoaded = true;
  }

  drawPower() {
    const toMs = Date.now();
    const fromMs = toMs - POWER_WINDOW_MS;
    const series = this.siteDevices.map((d) => {
      const points = [...(this.power.get(d.deviceId) ?? new Map())]
        .filter(([timeMs]) => timeMs >= fromMs)
        .sort((a, b) => a[0] - b[0])
        .map(([timeMs, value]) => ({ timeMs, value }));
      this.power.set(d.deviceId, new Map(points.map((p) => [p.timeMs, p.value])));
      return { name: d.name ?? d.deviceId, points };
    });
    byId('power').replaceChildren(lineChart(series, { fromMs, toMs, unit: 'W' }));
  }

  async renderEnergy() {
    const timeZone = this.siteDevices.find((d) => d.timeZone !== undefined)?.timeZone ?? 'UTC';
    const siteId = this.siteId;
    if (siteId === undefined) return;
    const dates = Array.from({ length: ENERGY_DAYS }, (_, i) =>
      localDate(timeZone, ENERGY_DAYS - 1 - i),
    );
    /** @type {({ totals: SiteTotals } | undefined)[]} */
    const days = await Promise.all(
      dates.map((date) => this.get(`/v1/sites/${encodeURIComponent(siteId)}/energy/days/${date}`)),
    );
    const measures = ['production', 'consumption', 'grid import', 'grid export'];
    const groups = dates.map((date, i) => {
      const totals = days[i]?.totals;
      return {
        label: date.slice(5),
        values:
          totals === undefined
            ? [null, null, null, null]
            : [totals.productionWh, totals.consumptionWh, totals.gridImportWh, totals.gridExportWh],
      };
    });
    byId('energy').replaceChildren(barChart(groups, measures, 'Wh'));
    byId('energy-legend').replaceChildren(
      ...measures.map((m, i) => el('span', {}, [swatch(i), m])),
    );
    byId('energy-zone').textContent = `local days in ${timeZone}, closed quarter hours`;
    this.energyReadAtMs = Date.now();
  }

  async renderAlerts() {
    const siteId = this.siteId;
    if (siteId === undefined) return;
    /** @type {{ alerts: Alert[] }} */
    const body = await this.get(`/v1/alerts?siteId=${encodeURIComponent(siteId)}&limit=10`);
    byId('alerts').replaceChildren(
      ...body.alerts.map((a) =>
        el('tr', { 'data-alert-id': a.alertId, class: a.status }, [
          el('td', {}, [a.kind]),
          el('td', {}, [a.deviceId]),
          el('td', {}, [a.status]),
          el('td', {}, [shortTime(a.raisedAt)]),
          el('td', {}, [shortTime(a.clearedAt)]),
        ]),
      ),
    );
    if (body.alerts.length === 0) byId('alerts').replaceChildren(emptyRow(5, 'no alerts'));
  }

  async renderCommands() {
    /** @type {{ commands: Command[] }[]} */
    const perDevice = await Promise.all(
      this.siteDevices.map((d) =>
        this.get(`/v1/devices/${encodeURIComponent(d.deviceId)}/commands?limit=10`),
      ),
    );
    const commands = perDevice
      .flatMap((body) => body.commands)
      .sort((a, b) => (b.requestedAt ?? '').localeCompare(a.requestedAt ?? ''))
      .slice(0, 10);
    byId('commands').replaceChildren(
      ...commands.map((c) =>
        el('tr', { 'data-command-id': c.commandId }, [
          el('td', {}, [c.action ?? '–']),
          el('td', {}, [c.deviceId]),
          el('td', {}, [c.status]),
          el('td', {}, [shortTime(c.requestedAt)]),
          el('td', { class: 'number' }, [c.latencyMs === undefined ? '–' : `${c.latencyMs} ms`]),
        ]),
      ),
    );
    if (commands.length === 0) byId('commands').replaceChildren(emptyRow(5, 'no commands'));
  }
}

/**
 * What an event says, in words: `gridstream.device.moved.v1` with its fields.
 * @param {HistoryEvent} event
 */
function describeEvent(event) {
  const what = event.type
    .replace(/^gridstream\./, '')
    .replace(/\.v\d+$/, '')
    .replace('.', ' ');
  const { data } = event;
  const details = [];
  for (const field of [
    'name',
    'role',
    'siteId',
    'toSiteId',
    'effectiveAt',
    'action',
    'reason',
    'kind',
  ]) {
    const value = data[field];
    if (typeof value === 'string' || typeof value === 'number') details.push(`${field} ${value}`);
  }
  return details.length === 0 ? what : `${what}: ${details.join(', ')}`;
}

/**
 * Who made a change: the registry's actor, or who requested a command.
 * @param {HistoryEvent} event
 */
function actorOf(event) {
  const actor = event.data['actor'] ?? event.data['requestedBy'];
  return typeof actor === 'string' ? actor : '–';
}

/** @param {number} columns @param {string} text */
function emptyRow(columns, text) {
  return el('tr', {}, [el('td', { colspan: String(columns), class: 'muted' }, [text])]);
}

/**
 * Shows what went wrong; true when the key itself is refused (then reading again is pointless).
 * @param {unknown} error
 */
function showError(error) {
  const status = byId('status');
  status.textContent = error instanceof Error ? error.message : String(error);
  status.classList.add('error');
  const refused = error instanceof ApiError && (error.status === 401 || error.status === 403);
  if (refused) {
    sessionStorage.removeItem(KEY_STORAGE);
    byId('key-form').hidden = false;
  }
  return refused;
}

function start() {
  const form = /** @type {HTMLFormElement} */ (byId('key-form'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const input = /** @type {HTMLInputElement} */ (byId('key-input'));
    sessionStorage.setItem(KEY_STORAGE, input.value.trim());
    location.reload();
  });
  const key = takeKey();
  if (key === null) {
    form.hidden = false;
    byId('status').textContent = 'give an API key with the read scope';
    return;
  }
  const dashboard = new Dashboard(key);
  const tick = () => {
    dashboard.refresh().then(
      () => {
        byId('status').classList.remove('error');
        setTimeout(tick, REFRESH_MS);
      },
      (/** @type {unknown} */ error) => {
        if (!showError(error)) setTimeout(tick, REFRESH_MS);
      },
    );
  };
  tick();
}

start();
