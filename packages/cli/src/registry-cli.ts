import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { parse as parseCsv } from 'csv-parse/sync';
import type { Config } from '@gridstream/config';
import { EntityId } from '@gridstream/events';
import {
  DeviceRegistrationRequest,
  RunRegistryCommands,
  connectRegistry,
} from '@gridstream/registry';
import type { RegistryCommand, RegistryWriteSide } from '@gridstream/registry';
import { progressLine } from './progress-line.ts';
import type { ProgressLine } from './progress-line.ts';

export const REGISTRY_USAGE = `usage:
  gridstream devices import FILE [--tenant T] [--format csv|ndjson]
      register the devices of FILE: CSV (.csv) whose header names the columns, or one JSON
      object a line (.ndjson, .jsonl): deviceId, siteId, kind, role, name, ratedPowerW?,
      counterWrapWh?. A line that is refused (unreadable, invalid, or judged so by the
      registry) is reported with its number and why; the others are registered, a thousand
      at a time. The same file again changes nothing. Exit 0 if no line was refused, 1 if
      some were, 64 for a file that cannot be read or a header without the columns.
  gridstream devices decommission|restore ID [--reason R] [--tenant T]
  gridstream sites add ID --name N --time-zone Z [--carbon-zone C] [--tenant T]

Changes go through the registry's write side as the API's do, their actor the operator
(operator:<the OS account>), never a key. Sites must exist before their devices.`;

/** How many registrations go to the write side at a time (the API's batch limit). */
const BATCH = 1_000;

/**
 * The CLI's actor: the operator running it, named by the OS account the process runs as ($USER
 * only where the account has no name, as in a container without a passwd entry).
 */
export function operatorActor(): string {
  let name: string | undefined;
  try {
    name = userInfo().username;
  } catch {
    name = process.env['USER'];
  }
  return `operator:${name?.replace(/\s+/g, '_') || 'unknown'}`;
}

export interface RefusedLine {
  /** The line of the file (1 is the first; a CSV's header is line 1). */
  readonly line: number;
  readonly deviceId?: string;
  readonly reason: string;
  readonly message: string;
}

export interface ImportReport {
  readonly lines: number;
  readonly registered: number;
  readonly unchanged: number;
  readonly refused: readonly RefusedLine[];
}

/** One line of an import file: a registration still to be checked, or why it cannot be read. */
export interface RegistrationLine {
  readonly line: number;
  readonly value?: unknown;
  readonly refusal?: { reason: string; message: string };
}

export type ImportFormat = 'csv' | 'ndjson';

const COLUMNS = Object.keys(DeviceRegistrationRequest.shape);
const REQUIRED_COLUMNS = COLUMNS.filter(
  (column) =>
    !DeviceRegistrationRequest.shape[column as keyof DeviceRegistrationRequest].safeParse(undefined)
      .success,
);
const NUMERIC = new Set(['ratedPowerW', 'counterWrapWh']);
/** A decimal number as people write one; Number() alone would take "0x10" and "1e" apart. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A CSV record's fields as the registration's types: empty is absent, numbers are numbers. */
function typedRecord(record: Record<string, string>): Record<string, unknown> | string {
  const typed: Record<string, unknown> = {};
  for (const [column, raw] of Object.entries(record)) {
    const text = raw.trim();
    if (text === '') continue;
    if (NUMERIC.has(column)) {
      if (!DECIMAL.test(text)) return `${column}: ${JSON.stringify(text)} is not a number`;
      typed[column] = Number(text);
    } else typed[column] = text;
  }
  return typed;
}

/** The fields of one CSV line. */
function csvFields(line: string): string[] {
  const rows: string[][] = parseCsv(line);
  return rows[0] ?? [];
}

/** The header's columns; a header the registrations cannot be read by is a usage error. */
function csvColumns(header: string): string[] {
  let columns: string[];
  try {
    columns = csvFields(header).map((c) => c.trim());
  } catch (error) {
    throw new RangeError(`the CSV header cannot be read: ${(error as Error).message}`);
  }
  const problems = [
    ...columns.filter((c) => !COLUMNS.includes(c)).map((c) => `unknown column ${c}`),
    ...columns.filter((c, i) => columns.indexOf(c) !== i).map((c) => `column ${c} twice`),
    ...REQUIRED_COLUMNS.filter((c) => !columns.includes(c)).map((c) => `no column ${c}`),
  ];
  if (problems.length > 0)
    throw new RangeError(
      `the CSV header: ${problems.join(', ')} (columns: ${COLUMNS.join(', ')}; the last two optional)`,
    );
  return columns;
}

/**
 * A line at a time, so a malformed line (a stray quote, a field too many) is refused alone: read
 * as one document, csv-parse takes everything after a stray quote into one field and the lines
 * after it would be lost. A registration has no field that spans lines.
 */
function parseCsvLines(text: string): RegistrationLine[] {
  const physical = text.split(/\r?\n/);
  const headerIndex = physical.findIndex((raw) => raw.trim() !== '');
  if (headerIndex === -1) return [];
  const columns = csvColumns(physical[headerIndex] ?? '');
  const parsed: RegistrationLine[] = [];
  for (let index = headerIndex + 1; index < physical.length; index++) {
    const raw = physical[index] ?? '';
    const line = index + 1;
    if (raw.trim() === '') continue;
    let fields: string[];
    try {
      fields = csvFields(raw);
    } catch (error) {
      const message = (error as Error).message.replace(/ (at|on) line 1\b/, '');
      parsed.push({ line, refusal: { reason: 'unreadable-line', message } });
      continue;
    }
    const record = Object.fromEntries(columns.map((column, i) => [column, fields[i] ?? '']));
    if (fields.length !== columns.length) {
      parsed.push({
        line,
        value: record,
        refusal: {
          reason: 'unreadable-line',
          message: `${fields.length} fields, the header names ${columns.length}`,
        },
      });
      continue;
    }
    const value = typedRecord(record);
    parsed.push(
      typeof value === 'string'
        ? { line, value: record, refusal: { reason: 'invalid-registration', message: value } }
        : { line, value },
    );
  }
  return parsed;
}

function parseNdjsonLines(text: string): RegistrationLine[] {
  const parsed: RegistrationLine[] = [];
  text.split('\n').forEach((raw, index) => {
    if (raw.trim() === '') return;
    try {
      parsed.push({ line: index + 1, value: JSON.parse(raw) as unknown });
    } catch (error) {
      parsed.push({
        line: index + 1,
        refusal: { reason: 'unreadable-line', message: (error as Error).message },
      });
    }
  });
  return parsed;
}

/**
 * The lines of an import file (a spreadsheet's byte order mark ignored). Throws a RangeError
 * for a CSV header that does not name the registration's columns.
 */
export function readRegistrations(text: string, format: ImportFormat): RegistrationLine[] {
  const body = text.replace(/^\uFEFF/, '');
  return format === 'csv' ? parseCsvLines(body) : parseNdjsonLines(body);
}

/** The format a file's name says, or undefined if it says none. */
export function formatOfFile(file: string): ImportFormat | undefined {
  const extension = extname(file).toLowerCase();
  if (extension === '.csv') return 'csv';
  if (extension === '.ndjson' || extension === '.jsonl') return 'ndjson';
  return undefined;
}

function bar(fraction: number, width = 20): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

const deviceIdOf = (value: unknown) => {
  const id = (value as { deviceId?: unknown } | null)?.deviceId;
  return typeof id === 'string' ? id : undefined;
};

/**
 * Registers the devices of a file's lines (`readRegistrations`) through the registry's write
 * side, a batch at a time: each line checked for shape here, judged by decideRegistry there.
 * Returns what became of each line.
 */
export async function importDevices(
  registry: RegistryWriteSide,
  lines: readonly RegistrationLine[],
  options: {
    readonly tenant: string;
    readonly actor: string;
    readonly progress?: ProgressLine;
  },
): Promise<ImportReport> {
  const refused: RefusedLine[] = [];
  const valid: { line: number; command: RegistryCommand }[] = [];
  for (const { line, value, refusal } of lines) {
    const deviceId = deviceIdOf(value);
    if (refusal !== undefined) {
      refused.push({ line, ...(deviceId === undefined ? {} : { deviceId }), ...refusal });
      continue;
    }
    const parsed = DeviceRegistrationRequest.safeParse(value);
    if (!parsed.success) {
      refused.push({
        line,
        ...(deviceId === undefined ? {} : { deviceId }),
        reason: 'invalid-registration',
        message: parsed.error.issues
          .map((issue) => `${issue.path.join('.') || '(line)'}: ${issue.message}`)
          .join('; '),
      });
      continue;
    }
    valid.push({ line, command: { type: 'register-device', ...parsed.data } });
  }
  let registered = 0;
  let unchanged = 0;
  for (let start = 0; start < valid.length; start += BATCH) {
    const batch = valid.slice(start, start + BATCH);
    const { outcomes } = await registry.commandBus.execute(
      new RunRegistryCommands(
        options.tenant,
        options.actor,
        batch.map((b) => b.command),
      ),
    );
    outcomes.forEach((outcome, i) => {
      const line = batch[i]?.line ?? 0;
      if (outcome.outcome === 'refused')
        refused.push({
          line,
          deviceId: outcome.id,
          reason: outcome.refusal.reason,
          message: outcome.refusal.message,
        });
      else if (outcome.outcome === 'changed') registered++;
      else unchanged++;
    });
    const done = Math.min(start + BATCH, valid.length);
    options.progress?.update(
      `devices import ${bar(done / valid.length)} ${done.toLocaleString('en-US')} of ${valid.length.toLocaleString('en-US')} registrations (${Math.round((done / valid.length) * 100)} %), ${registered} registered, ${unchanged} unchanged, ${refused.length} refused`,
    );
  }
  refused.sort((a, b) => a.line - b.line);
  return { lines: lines.length, registered, unchanged, refused };
}

function tenantOf(values: { tenant?: string | undefined }): string {
  const tenant = values.tenant ?? 'demo';
  if (!EntityId.safeParse(tenant).success)
    throw new RangeError(`--tenant ${JSON.stringify(tenant)}: letters, digits and . _ : - only`);
  return tenant;
}

/** `gridstream devices …` and `gridstream sites …`; returns the exit code. */
export async function registryCommand(
  config: Config,
  noun: 'devices' | 'sites',
  argv: readonly string[],
  out: (line: string) => void,
): Promise<number> {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      format: { type: 'string' },
      reason: { type: 'string' },
      name: { type: 'string' },
      'time-zone': { type: 'string' },
      'carbon-zone': { type: 'string' },
    },
  });
  const [action, target] = positionals;
  const tenant = tenantOf(values);
  const actor = operatorActor();
  if (target === undefined) throw new RangeError(`${noun} ${action ?? '?'}: what?`);
  let command: RegistryCommand | undefined;
  if (noun === 'sites' && action === 'add') {
    if (values.name === undefined || values['time-zone'] === undefined)
      throw new RangeError('sites add ID needs --name N and --time-zone Z');
    command = {
      type: 'register-site',
      siteId: target,
      name: values.name,
      timeZone: values['time-zone'],
      ...(values['carbon-zone'] === undefined ? {} : { carbonZone: values['carbon-zone'] }),
    };
  } else if (noun === 'devices' && (action === 'decommission' || action === 'restore'))
    command = {
      type: action === 'decommission' ? 'decommission-device' : 'restore-device',
      deviceId: target,
      ...(values.reason === undefined ? {} : { reason: values.reason }),
    };
  else if (noun === 'devices' && action === 'import') {
    const format = values.format ?? formatOfFile(target);
    if (format === undefined)
      throw new RangeError(`${target}: name a .csv, .ndjson or .jsonl file, or give --format`);
    if (format !== 'csv' && format !== 'ndjson')
      throw new RangeError(`--format ${format}: csv or ndjson`);
    let text: string;
    try {
      text = await readFile(target, 'utf8');
    } catch (error) {
      throw new RangeError(`cannot read ${target}: ${(error as Error).message}`);
    }
    const lines = readRegistrations(text, format);
    const registry = await connectRegistry(config);
    try {
      const progress = progressLine();
      const startedMs = performance.now();
      const report = await importDevices(registry, lines, { tenant, actor, progress });
      // ends the progress line, so the report below starts on a line of its own
      progress.log(
        `devices import: ${report.lines} lines judged in ${((performance.now() - startedMs) / 1000).toFixed(1)} s`,
      );
      for (const r of report.refused)
        out(
          `line ${r.line}${r.deviceId === undefined ? '' : ` (${r.deviceId})`}: ${r.reason}: ${r.message}`,
        );
      progress.log(
        `devices import: ${report.lines} lines, ${report.registered} registered, ${report.unchanged} unchanged, ${report.refused.length} refused (tenant ${tenant}, as ${actor})`,
      );
      return report.refused.length === 0 ? 0 : 1;
    } finally {
      await registry.close();
    }
  }
  if (command === undefined) throw new RangeError(`unknown: ${noun} ${action ?? ''}`);
  const registry = await connectRegistry(config);
  try {
    const { outcomes } = await registry.commandBus.execute(
      new RunRegistryCommands(tenant, actor, [command]),
    );
    const [outcome] = outcomes;
    if (outcome === undefined) return 1;
    if (outcome.outcome === 'refused') {
      out(`${noun} ${action} ${target}: ${outcome.refusal.reason}: ${outcome.refusal.message}`);
      return 1;
    }
    out(`${noun} ${action} ${target}: ${outcome.outcome}`);
    return 0;
  } finally {
    await registry.close();
  }
}
