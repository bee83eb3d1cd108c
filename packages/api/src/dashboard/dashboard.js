// @ts-check
// The dashboard: one tenant's sites and devices, live power, daily energy, recent commands and
// alerts, and a device's history, all read from the /v1 API with the key the user gives. The
// key arrives in the URL fragment (`#key=...`, which the browser never sends to a server), is
// kept in sessionStorage for this tab only, and the fragment is then removed from the address
// bar.
import { barChart, lineChart, SERIES_COLOURS } from './charts.js';
import { describeHistory, newestFirst } from './history.js';
import { openStream } from './live.js';

const KEY_STORAGE = 'gridstream.apiKey';
/** How often live power, devices, alerts and commands are read again. */
const REFRESH_MS = 5_000;
/** Daily energy changes once a quarter hour: read it less often. */
const ENERGY_REFRESH_MS = 60_000;
const POWER_WINDOW_MS = 15 * 60_000;
const ENERGY_DAYS = 7;
const SITES_PER_PAGE = 20;
/** GET /v1/devices reads at most this many devices of a site. */
const DEVICES_PER_SITE = 1000;
/** A device's history is read oldest first, a page at a time, a few pages per refresh. */
const HISTORY_PAGE = 5_000;
const HISTORY_PAGES_PER_REFRESH = 4;
/**
 * Each refresh reads again from this long before the newest event it has: a quarter hour's
 * energy is archived under its start, after later events of the device.
 */
const HISTORY_OVERLAP_MS = 60 * 60_000;
const HISTORY_LINES_SHOWN = 200;

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
 * @typedef {{ siteId: string, name: string, timeZone: string, status: 'open' | 'closed',
 *   activeDevices: number,
 *   today?: SiteTotals & { date: string, autarkyRate?: number | null } }} Site
 * @typedef {{ exact: string, display: string }} Amount
 * @typedef {{ localDate: string, importCost: Amount, exportEarnings: Amount }} CostDay
 * @typedef {{ currency: string | null, netCost: Amount, grossCost: Amount, vat: Amount,
 *   exportEarnings: Amount, emissionsG: Amount, avoidedEmissionsG: Amount,
 *   daysWithData: number, costComplete: boolean, emissionsComplete: boolean }} CostStatement
 * @typedef {import('./history.js').ArchivedEvent} ArchivedEvent
 * @typedef {{ deviceId: string, events: ArchivedEvent[], ids: Set<string>, caughtUp: boolean }}
 *   DeviceHistory
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
    /** @type {Site[]} the page of sites shown */
    this.sites = [];
    /** @type {(string | undefined)[]} the cursor of each page up to the one shown */
    this.sitePages = [undefined];
    /** @type {string | undefined} */
    this.nextSitesCursor = undefined;
    /** @type {Site | undefined} the selected site, on the page shown or not */
    this.site = undefined;
    /** @type {Device[]} the selected site's devices */
    this.devices = [];
    this.moreDevices = false;
    const address = new URLSearchParams(location.search);
    /** @type {string | undefined} */
    this.siteId = address.get('site') ?? undefined;
    /** @type {string | undefined} the device whose history is shown */
    this.deviceId = address.get('device') ?? undefined;
    /** @type {DeviceHistory | undefined} */
    this.history = undefined;
    this.energyReadAtMs = 0;
    /** @type {Map<string, Map<number, number>>} each device's power (W) by time (ms) */
    this.power = new Map();
    /** Whether `power` holds the whole window (read with the queries) since the stream began. */
    this.powerLoaded = false;
    /** @type {{ siteId: string, stream: { stop: () => void }, connected: boolean } | undefined} */
    this.live = undefined;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.drawTimer = undefined;
  }

  /** @param {string} path */
  get(path) {
    return get(this.key, path);
  }

  async refresh() {
    await this.readSites();
    const siteId = this.siteId;
    if (siteId === undefined) {
      this.devices = [];
      this.moreDevices = false;
    } else {
      /** @type {{ devices: Device[], nextCursor?: string }} */
      const listed = await this.get(
        `/v1/devices?siteId=${encodeURIComponent(siteId)}&limit=${DEVICES_PER_SITE}`,
      );
      this.devices = listed.devices;
      this.moreDevices = listed.nextCursor !== undefined;
    }
    this.renderSites();
    this.renderDevices();
    const energyDue = Date.now() - this.energyReadAtMs > ENERGY_REFRESH_MS;
    await Promise.all([
      this.renderHistory(),
      this.renderPower(),
      this.renderAlerts(),
      this.renderCommands(),
      energyDue ? this.renderEnergy() : Promise.resolve(),
      energyDue ? this.renderCost() : Promise.resolve(),
    ]);
    byId('status').textContent = `updated ${new Date().toLocaleTimeString()}`;
  }

  /**
   * The page of sites shown, and the selected site: the one the address names (on this page or
   * another; a site never registered is shown by its id), else the first of the page.
   */
  async readSites() {
    const cursor = this.sitePages.at(-1);
    /** @type {{ sites: Site[], nextCursor?: string }} */
    const page = await this.get(
      `/v1/sites?limit=${SITES_PER_PAGE}` +
        (cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`),
    );
    this.sites = page.sites;
    this.nextSitesCursor = page.nextCursor;
    if (this.siteId === undefined) this.siteId = this.sites[0]?.siteId;
    const siteId = this.siteId;
    this.site =
      siteId === undefined
        ? undefined
        : (this.sites.find((s) => s.siteId === siteId) ??
          /** @type {Site | undefined} */ (
            await this.get(`/v1/sites/${encodeURIComponent(siteId)}`)
          ));
  }

  /** @param {string} siteId */
  selectSite(siteId) {
    this.siteId = siteId;
    this.deviceId = undefined;
    this.energyReadAtMs = 0;
    this.updateAddress();
    this.refresh().catch(showError);
  }

  /** @param {string} deviceId */
  selectDevice(deviceId) {
    this.deviceId = deviceId;
    this.updateAddress();
    this.refresh().catch(showError);
  }

  /** @param {-1 | 1} step */
  turnSitesPage(step) {
    if (step === 1 && this.nextSitesCursor !== undefined) this.sitePages.push(this.nextSitesCursor);
    if (step === -1 && this.sitePages.length > 1) this.sitePages.pop();
    this.refresh().catch(showError);
  }

  /** The selection goes into the address, so a reload (or a link) shows the same. */
  updateAddress() {
    const address = new URLSearchParams();
    if (this.siteId !== undefined) address.set('site', this.siteId);
    if (this.deviceId !== undefined) address.set('device', this.deviceId);
    history.replaceState(null, '', `${location.pathname}?${address.toString()}`);
  }

  renderSites() {
    const list = byId('sites');
    list.replaceChildren(
      ...this.sites.map((site) => {
        const button = el(
          'button',
          { type: 'button', 'data-site-id': site.siteId, 'data-status': site.status },
          [
            el('strong', {}, [site.name]),
            el('span', { class: 'muted' }, [`${site.siteId} · ${site.timeZone}`]),
            el('span', {}, [
              el('span', { class: `site-status ${site.status}` }, [site.status]),
              ` · ${site.activeDevices} device${site.activeDevices === 1 ? '' : 's'} in service`,
            ]),
            el('span', { class: 'muted' }, [todayText(site.today)]),
          ],
        );
        if (site.siteId === this.siteId) button.classList.add('selected');
        button.addEventListener('click', () => {
          this.selectSite(site.siteId);
        });
        return el('li', {}, [button]);
      }),
    );
    if (this.sites.length === 0)
      list.replaceChildren(
        el('li', { class: 'muted' }, [
          // the API offers a next page whenever a page is full, even when nothing follows it
          this.sitePages.length === 1 ? 'no sites registered yet' : 'no more sites',
        ]),
      );
    this.renderSitesPager();
    const site = this.site;
    byId('site-title').replaceChildren(
      site?.name ?? this.siteId ?? '',
      ...(site === undefined
        ? []
        : [' ', el('span', { class: 'muted' }, [`${site.timeZone} · ${site.status}`])]),
    );
  }

  renderSitesPager() {
    const pageNumber = this.sitePages.length;
    const previous = el('button', { type: 'button', 'data-page': 'previous' }, ['‹ previous']);
    const next = el('button', { type: 'button', 'data-page': 'next' }, ['next ›']);
    previous.toggleAttribute('disabled', pageNumber === 1);
    next.toggleAttribute('disabled', this.nextSitesCursor === undefined);
    previous.addEventListener('click', () => {
      this.turnSitesPage(-1);
    });
    next.addEventListener('click', () => {
      this.turnSitesPage(1);
    });
    const pager = byId('sites-pager');
    pager.hidden = pageNumber === 1 && this.nextSitesCursor === undefined;
    pager.replaceChildren(previous, el('span', { class: 'muted' }, [`page ${pageNumber}`]), next);
  }

  renderDevices() {
    byId('devices').replaceChildren(
      ...this.devices.map((d, index) => {
        const row = el('tr', { 'data-device-id': d.deviceId, class: 'clickable' }, [
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
        ]);
        row.title = 'show its history';
        if (d.deviceId === this.deviceId) row.classList.add('selected');
        row.addEventListener('click', () => {
          this.selectDevice(d.deviceId);
        });
        return row;
      }),
    );
    if (this.devices.length === 0)
      byId('devices').replaceChildren(emptyRow(7, 'no devices on this site'));
    byId('devices-more').hidden = !this.moreDevices;
  }

  /**
   * The selected device's history, newest first. The API gives it oldest first: it is read
   * whole once (a few pages per refresh), then at each refresh only what is new.
   */
  async renderHistory() {
    const deviceId = this.deviceId;
    const device = this.devices.find((d) => d.deviceId === deviceId);
    byId('history').hidden = device === undefined;
    if (deviceId === undefined || device === undefined) return;
    if (this.history?.deviceId !== deviceId)
      this.history = { deviceId, events: [], ids: new Set(), caughtUp: false };
    const deviceHistory = this.history;
    const newest = deviceHistory.events.at(-1)?.time;
    let from =
      newest === undefined || !deviceHistory.caughtUp
        ? newest
        : new Date(Date.parse(newest) - HISTORY_OVERLAP_MS).toISOString();
    for (let page = 0; page < HISTORY_PAGES_PER_REFRESH; page++) {
      /** @type {{ events: ArchivedEvent[] } | undefined} */
      const body = await this.get(
        `/v1/devices/${encodeURIComponent(deviceId)}/history?limit=${HISTORY_PAGE}` +
          (from === undefined ? '' : `&from=${encodeURIComponent(from)}`),
      );
      if (this.history !== deviceHistory) return; // another device was chosen meanwhile
      const events = body?.events ?? [];
      for (const event of events)
        if (!deviceHistory.ids.has(event.id)) {
          deviceHistory.ids.add(event.id);
          deviceHistory.events.push(event);
        }
      deviceHistory.caughtUp = events.length < HISTORY_PAGE;
      if (deviceHistory.caughtUp) break;
      from = events.at(-1)?.time;
    }
    // A stable sort: the events of one instant keep the order the log gave them.
    deviceHistory.events.sort((a, b) => a.time.localeCompare(b.time));
    this.drawHistory(device, deviceHistory);
  }

  /** @param {Device} device @param {DeviceHistory} deviceHistory */
  drawHistory(device, deviceHistory) {
    const { events, caughtUp } = deviceHistory;
    const lines = newestFirst(describeHistory(events, shortTime), events, shortTime);
    byId('history-device').textContent = device.name ?? device.deviceId;
    byId('history-note').textContent =
      `(newest first; ${events.length} event${events.length === 1 ? '' : 's'}` +
      (caughtUp ? '' : ', reading older ones…') +
      (lines.length > HISTORY_LINES_SHOWN
        ? `, the newest ${HISTORY_LINES_SHOWN} lines shown`
        : '') +
      ')';
    byId('history-events').replaceChildren(
      ...lines
        .slice(0, HISTORY_LINES_SHOWN)
        .map((line) =>
          el('tr', { 'data-event-id': line.eventId, 'data-type': line.type }, [
            el('td', { class: 'time' }, [shortTime(line.time)]),
            el('td', {}, [line.what]),
            el('td', line.automatic ? { class: 'muted' } : {}, [line.by]),
          ]),
        ),
    );
    if (lines.length === 0)
      byId('history-events').replaceChildren(emptyRow(3, 'nothing archived yet'));
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
      this.devices.map(async (d) => {
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
    const series = this.devices.map((d) => {
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
    const timeZone =
      this.site?.timeZone ?? this.devices.find((d) => d.timeZone !== undefined)?.timeZone ?? 'UTC';
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

  /**
   * This month's cost in the site's time zone: the statement's net and gross cost and emissions
   * (rounded by the API, exact sums behind them), and each day's import cost and export
   * earnings as bars.
   */
  async renderCost() {
    const siteId = this.siteId;
    if (siteId === undefined) return;
    const site = `/v1/sites/${encodeURIComponent(siteId)}`;
    const month = localDate(this.site?.timeZone ?? 'UTC', 0).slice(0, 7);
    /** @type {[CostStatement | undefined, { buckets: CostDay[] } | undefined]} */
    const [statement, days] = await Promise.all([
      this.get(`${site}/statements/${month}`),
      this.get(`${site}/cost?resolution=day`),
    ]);
    const buckets = days?.buckets ?? [];
    if (statement === undefined || buckets.length === 0) {
      byId('cost-summary').textContent = 'no cost figures this month yet';
      byId('cost-chart').replaceChildren();
      byId('cost-legend').replaceChildren();
      byId('cost-note').textContent = '';
      return;
    }
    const currency = statement.currency ?? '';
    const kg = (/** @type {{ display: string }} */ grams) =>
      `${(Number(grams.display) / 1000).toFixed(1)} kg CO2e`;
    byId('cost-summary').textContent =
      `net ${statement.netCost.display} ${currency}, gross ${statement.grossCost.display} ${currency} ` +
      `(VAT ${statement.vat.display}), export earnings ${statement.exportEarnings.display} ${currency}; ` +
      `emissions ${kg(statement.emissionsG)}, avoided ${kg(statement.avoidedEmissionsG)}`;
    const measures = ['import cost', 'export earnings'];
    const groups = buckets.map((day) => ({
      label: day.localDate.slice(5),
      values: [Number(day.importCost.display), Number(day.exportEarnings.display)],
    }));
    byId('cost-chart').replaceChildren(barChart(groups, measures, currency));
    byId('cost-legend').replaceChildren(...measures.map((m, i) => el('span', {}, [swatch(i), m])));
    byId('cost-note').textContent =
      `(${month}, ${statement.daysWithData} day${statement.daysWithData === 1 ? '' : 's'} with data` +
      (statement.costComplete && statement.emissionsComplete ? '' : '; some figures lack inputs') +
      ')';
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
      this.devices.map((d) =>
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

/** A site's energy of its local today, so far. @param {Site['today']} today */
function todayText(today) {
  if (today === undefined) return 'today: no energy yet';
  const autarky =
    today.autarkyRate === null || today.autarkyRate === undefined
      ? ''
      : `, autarky ${Math.round(today.autarkyRate * 100)} %`;
  return (
    `today: ${kWh(today.productionWh)} produced, ${kWh(today.consumptionWh)} used, ` +
    `${kWh(today.gridImportWh)} from the grid${autarky}`
  );
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
