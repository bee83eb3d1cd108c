import type { Collection, Filter } from 'mongodb';
import type { StoredDocument } from '@gridstream/mongo';
import type { ProjectionDefinition } from '@gridstream/projection';
import { commandDocumentId, evolveCommand } from './evolve.ts';
import type { CommandStatus, CommandView } from './evolve.ts';
import { commandStats } from './stats.ts';
import type { CommandStatsGroup, StatsRow } from './stats.ts';

export type CommandDocument = StoredDocument<CommandView>;

/** One document per command, from the commands topic and the dispatches on the gateway topic. */
export const commandsProjection: ProjectionDefinition<CommandView> = {
  name: 'commands',
  version: 1,
  topics: ['commands', 'gateway'],
  documentId: commandDocumentId,
  evolve: evolveCommand,
  indexes: [
    { key: { 'state.tenant': 1, 'state.deviceId': 1, 'state.requestedAt': -1 } },
    { key: { 'state.tenant': 1, 'state.requestedAt': 1 } },
  ],
  // A command is one device's: every event of it, on either topic, carries the device as its
  // subject and key (decodeEvent refuses a data.deviceId that is not the subject), so a rebuild
  // may fold it in parts.
  parts: { module: import.meta.url, exportName: 'commandsProjection' },
};

export async function findCommand(
  collection: Collection<CommandDocument>,
  tenant: string,
  commandId: string,
): Promise<CommandView | undefined> {
  return (await collection.findOne({ _id: `${tenant}/${commandId}` }))?.state ?? undefined;
}

export interface DeviceCommandsQuery {
  readonly tenant: string;
  readonly deviceId: string;
  readonly status?: CommandStatus | undefined;
  readonly limit: number;
}

/** A device's commands, newest request first. */
export async function findDeviceCommands(
  collection: Collection<CommandDocument>,
  query: DeviceCommandsQuery,
): Promise<CommandView[]> {
  const filter: Record<string, string> = {
    'state.tenant': query.tenant,
    'state.deviceId': query.deviceId,
  };
  if (query.status !== undefined) filter['state.status'] = query.status;
  const documents = await collection
    .find(filter as Filter<CommandDocument>)
    .sort({ 'state.requestedAt': -1, _id: 1 })
    .limit(query.limit)
    .toArray();
  return documents.map((d) => d.state);
}

/** Commands one statistics request reads at most; beyond it the answer says it is truncated. */
export const MAX_STATS_COMMANDS = 100_000;

export interface CommandStatsAnswer {
  readonly commands: number;
  readonly truncated: boolean;
  readonly groups: CommandStatsGroup[];
}

/** Success rate and latency per action and device kind of the commands requested in [from, to). */
export async function queryCommandStats(
  collection: Collection<CommandDocument>,
  query: {
    tenant: string;
    from: string;
    to: string;
    action?: string | undefined;
    deviceKind?: string | undefined;
  },
): Promise<CommandStatsAnswer> {
  const filter: Record<string, unknown> = {
    'state.tenant': query.tenant,
    'state.requestedAt': { $gte: query.from, $lt: query.to },
  };
  if (query.action !== undefined) filter['state.action'] = query.action;
  if (query.deviceKind !== undefined) filter['state.deviceKind'] = query.deviceKind;
  const documents = await collection
    .find(filter as Filter<CommandDocument>, {
      projection: {
        'state.action': 1,
        'state.deviceKind': 1,
        'state.status': 1,
        'state.latencyMs': 1,
      },
    })
    .limit(MAX_STATS_COMMANDS + 1)
    .toArray();
  const rows: StatsRow[] = documents.slice(0, MAX_STATS_COMMANDS).map(({ state }) => ({
    action: state.action,
    deviceKind: state.deviceKind,
    status: state.status,
    latencyMs: state.latencyMs,
  }));
  return {
    commands: rows.length,
    truncated: documents.length > MAX_STATS_COMMANDS,
    groups: commandStats(rows),
  };
}
