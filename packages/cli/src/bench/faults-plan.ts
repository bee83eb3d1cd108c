import { SERVICES } from '../services.ts';
import type { Instance } from './faults-services.ts';
import { SERVERS } from './faults-stack.ts';

export type FaultKind =
  | 'kill -9'
  | 'outage (stop)'
  | 'outage (SIGSTOP)'
  | 'broker kill -9'
  | 'instance added'
  | 'instance removed';

export interface Fault {
  readonly kind: FaultKind;
  readonly target: string;
  readonly atMs: number;
  startedMs?: number;
  endedMs?: number;
  recoveredMs?: number;
  /** Messages the consumer groups were behind, in all, when the fault began. */
  lagBefore?: number;
  instance?: Instance;
  note?: string;
}

/**
 * When each fault happens, in ms from the start of the load: outages of each server by stopping
 * and by freezing, and on a Kafka cluster kill -9 of single nodes (two a round, restarted after
 * the outage time), spread over slots of their own (never two at once); kill -9 of every
 * service and instances added and removed at random times between them.
 */
export function planFaults(
  options: {
    readonly short: boolean;
    readonly minutes: number;
    readonly kafkaNodes?: number;
    /** Only the kills of single Kafka nodes (a cluster's own test). */
    readonly brokerFaultsOnly?: boolean;
  },
  loadMs: number,
  outageMs: number,
  random: () => number = Math.random,
): Fault[] {
  const rounds = options.short ? 1 : Math.max(1, Math.floor(options.minutes / 10));
  const killsPerService = options.short ? 1 : Math.max(1, Math.round((3 * options.minutes) / 10));
  const scalePairs = options.short ? 1 : Math.max(1, Math.round((2 * options.minutes) / 10));
  const fromMs = options.short ? 15_000 : 30_000;
  const toMs = loadMs - (options.short ? 15_000 : 45_000);
  const plan: Fault[] = [];
  const outages: { kind: FaultKind; target: string }[] = [];
  const kafkaNodes = options.kafkaNodes ?? 1;
  const brokersOnly = options.brokerFaultsOnly === true && kafkaNodes > 1;
  for (let r = 0; r < rounds; r++) {
    if (!brokersOnly)
      for (const server of SERVERS)
        for (const kind of ['outage (stop)', 'outage (SIGSTOP)'] as const)
          outages.push({ kind, target: server });
    if (kafkaNodes > 1)
      for (let k = 0; k < 2; k++)
        outages.push({
          kind: 'broker kill -9',
          target: `kafka node ${String(1 + Math.floor(random() * kafkaNodes))}`,
        });
  }
  shuffle(outages, random);
  const slotMs = (toMs - fromMs) / outages.length;
  outages.forEach((o, i) => {
    const spare = Math.max(0, slotMs - outageMs - 10_000);
    plan.push({ ...o, atMs: fromMs + i * slotMs + random() * spare });
  });
  if (brokersOnly) return plan;
  const randomAt = () => fromMs + random() * (toMs - fromMs);
  for (const { name } of SERVICES)
    for (let k = 0; k < killsPerService; k++)
      plan.push({ kind: 'kill -9', target: name, atMs: randomAt() });
  const scalable = SERVICES.filter((s) => s.maxInstances === undefined).map((s) => s.name);
  for (let p = 0; p < scalePairs; p++) {
    const service = scalable[Math.floor(random() * scalable.length)] ?? 'energy';
    const addAt = fromMs + random() * (toMs - fromMs) * 0.6;
    plan.push({ kind: 'instance added', target: service, atMs: addAt });
    plan.push({
      kind: 'instance removed',
      target: service,
      atMs: Math.min(toMs, addAt + 20_000 + random() * 40_000),
    });
  }
  return plan;
}

function shuffle(list: unknown[], random: () => number): void {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const a = list[i];
    const b = list[j];
    if (a === undefined || b === undefined) continue;
    list[i] = b;
    list[j] = a;
  }
}
