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
      register the devices of FILE (CSV with a header, or one JSON object a line): deviceId,
      siteId, kind, role, name, ratedPowerW?, counterWrapWh?; a line that is refused is
      reported with its number and why, the others are registered; the same file again
      changes nothing. Exit 0 if no line was refused, 1 if some were.
  gridstream devices decommission|restore ID [--reason R] [--tenant T]
  gridstream sites add ID --name N --time-zone Z [--tenant T]

Changes go through the registry's write side as the API's do, their actor the operator
(operator:<user>), never a key. Sites must exist before their devices.`;

/** How many registrations go to the write side at a time (the API's batch limit). */
const BATCH = 1_000;

/** The CLI's actor: the operator running it. */
export function operatorActor(): string {
  const name = process.env['USER'] ?? userInfo().username;
  return `operator:${name.replace(/\s+/g, '_') || 'unknown'}`;
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

interface ParsedLine {
  readonly line: number;
  readonly value?: unknown;
  readonly refusal?: { reason: string; message: string };
}

const NUMERIC = new Set(['ratedPowerW', 'counterWrapWh']);

/** A CSV record's fields as the registration's types: empty is absent, numbers are numbers. */
function typedRecord(record: Record<string, string>): Record<string, unknown> | string {
  const typed: Record<string, unknown> = {};
  for (const [column, raw] of Object.entries(record)) {
    const text = raw.trim();
    if (text === '') continue;
    if (NUMERIC.has(column)) {
      const number = Number(text);
      if (!Number.isFinite(number)) return `${column}: ${JSON.stringify(text)} is not a number`;
      typed[column] = number;
    } else typed[column] = text;
  }
  return typed;
}

/** A record as csv-parse gives it with `info`: the fields by column, and where it ended. */
interface CsvRecord {
  readonly record: Record<string, string>;
  readonly info: { readonly lines: number };
}

function parseCsvLines(text: string): ParsedLine[] {
  const parsed: ParsedLine[] = [];
  const records: unknown = parseCsv(text, {
    columns: true,
    skip_empty_lines: true,
    info: true,
    // a record with too many or too few fields is refused on its own, not the whole file
    skip_records_with_error: true,
    on_skip: (error) => {
      if (error === undefined) return;
      parsed.push({
        line: Number((error as { lines?: unknown }).lines ?? 0),
        refusal: { reason: 'unreadable-line', message: error.message },
      });
    },
  });
  for (const { record, info } of records as CsvRecord[]) {
    const value = typedRecord(record);
    parsed.push(
      typeof value === 'string'
        ? {
            line: info.lines,
            value: record,
            refusal: { reason: 'invalid-registration', message: value },
          }
        : { line: info.lines, value },
    );
  }
  return parsed.sort((a, b) => a.line - b.line);
}

function parseNdjsonLines(text: string): ParsedLine[] {
  const parsed: ParsedLine[] = [];
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

const deviceIdOf = (value: unknown) => {
  const id = (value as { deviceId?: unknown } | null)?.deviceId;
  return typeof id === 'string' ? id : undefined;
};

/**
 * Registers the devices of a file through the registry's write side, a batch at a time: each
 * line checked for shape here, judged by decideRegistry there. Returns what became of each line.
 */
export async function importDevices(
  registry: RegistryWriteSide,
  options: {
    readonly text: string;
    readonly format: 'csv' | 'ndjson';
    readonly tenant: string;
    readonly actor: string;
    readonly progress?: ProgressLine;
  },
): Promise<ImportReport> {
  const lines =
    options.format === 'csv' ? parseCsvLines(options.text) : parseNdjsonLines(options.text);
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
      `devices import: ${done.toLocaleString('en-US')} of ${valid.length.toLocaleString('en-US')} registrations (${Math.round((done / valid.length) * 100)} %), ${registered} registered, ${unchanged} unchanged, ${refused.length} refused`,
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
    };
  } else if (noun === 'devices' && (action === 'decommission' || action === 'restore'))
    command = {
      type: action === 'decommission' ? 'decommission-device' : 'restore-device',
      deviceId: target,
      ...(values.reason === undefined ? {} : { reason: values.reason }),
    };
  else if (noun === 'devices' && action === 'import') {
    const format = values.format ?? (extname(target).toLowerCase() === '.csv' ? 'csv' : 'ndjson');
    if (format !== 'csv' && format !== 'ndjson')
      throw new RangeError(`--format ${format}: csv or ndjson`);
    let text: string;
    try {
      text = await readFile(target, 'utf8');
    } catch (error) {
      throw new RangeError(`cannot read ${target}: ${(error as Error).message}`);
    }
    const registry = await connectRegistry(config);
    try {
      const progress = progressLine();
      const report = await importDevices(registry, { text, format, tenant, actor, progress });
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
