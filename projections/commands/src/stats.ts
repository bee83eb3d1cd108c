import type { CommandStatus } from './evolve.ts';

/** What the statistics need of one command. */
export interface StatsRow {
  readonly action?: string | undefined;
  readonly deviceKind?: string | undefined;
  readonly status: CommandStatus;
  readonly latencyMs?: number | undefined;
}

export interface LatencyPercentiles {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

export interface CommandStatsGroup {
  readonly action: string;
  readonly deviceKind: string;
  readonly total: number;
  readonly byStatus: Readonly<Partial<Record<CommandStatus, number>>>;
  /** Succeeded among those the device had a chance at and that are over (cancelled and rejected ones left out); null when none is. */
  readonly successRate: number | null;
  /** From request to success, of the succeeded ones; null when none succeeded. */
  readonly latencyMs: LatencyPercentiles | null;
}

/** The nearest-rank percentile of sorted values (p in (0, 100]). */
export function percentile(sorted: readonly number[], p: number): number {
  const index = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1;
  return sorted[index] ?? Number.NaN;
}

const JUDGED: readonly CommandStatus[] = ['succeeded', 'failed', 'timed-out', 'expired'];

/**
 * Success rate and latency percentiles per action and device kind (pure). Percentiles cannot be
 * pre-aggregated for an arbitrary time range, so they are computed from the range's commands.
 */
export function commandStats(rows: readonly StatsRow[]): CommandStatsGroup[] {
  const groups = new Map<string, { action: string; deviceKind: string; rows: StatsRow[] }>();
  for (const row of rows) {
    const action = row.action ?? 'unknown';
    const deviceKind = row.deviceKind ?? 'unknown';
    const key = `${action}\n${deviceKind}`;
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = { action, deviceKind, rows: [] }));
    group.rows.push(row);
  }
  return [...groups.values()]
    .sort((a, b) =>
      a.action === b.action ? (a.deviceKind < b.deviceKind ? -1 : 1) : a.action < b.action ? -1 : 1,
    )
    .map(({ action, deviceKind, rows: members }) => {
      const byStatus: Partial<Record<CommandStatus, number>> = {};
      for (const row of members) byStatus[row.status] = (byStatus[row.status] ?? 0) + 1;
      const judged = JUDGED.reduce((sum, status) => sum + (byStatus[status] ?? 0), 0);
      const latencies = members
        .filter((row) => row.status === 'succeeded' && row.latencyMs !== undefined)
        .map((row) => row.latencyMs ?? 0)
        .sort((a, b) => a - b);
      return {
        action,
        deviceKind,
        total: members.length,
        byStatus,
        successRate: judged === 0 ? null : (byStatus.succeeded ?? 0) / judged,
        latencyMs:
          latencies.length === 0
            ? null
            : {
                p50: percentile(latencies, 50),
                p90: percentile(latencies, 90),
                p99: percentile(latencies, 99),
                max: latencies[latencies.length - 1] ?? 0,
              },
      };
    });
}
