import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Command, CommandBus, CommandHandler, CqrsModule } from '@nestjs/cqrs';
import type { ICommandHandler } from '@nestjs/cqrs';
import { requestFingerprint } from '@gridstream/commands';
import type { Refusal } from '@gridstream/commands';
import type { GridstreamEvent } from '@gridstream/events';
import { GridstreamError } from '@gridstream/errors';
import { decideRegistry, evolveDeviceFacts, evolveSiteFacts, subjectOf } from './decide.ts';
import type { DeviceFacts, RegistryCommand, SiteFacts } from './decide.ts';
import type { EntityKind, KeyDocument, RegistryOutcome, RegistryStore } from './store.ts';

/** What the registry's handler reads and writes; the API and the CLI wire the real servers in. */
export interface RegistryPorts {
  readonly store: RegistryStore;
  /** The read models, for entities registered straight on Kafka (the write side never saw them). */
  readonly readSite: (tenant: string, siteId: string) => Promise<SiteFacts | undefined>;
  readonly readDevice: (tenant: string, deviceId: string) => Promise<DeviceFacts | undefined>;
  readonly readActiveDeviceIds: (tenant: string, siteId: string) => Promise<string[]>;
  /** The read models' sites and devices of many ids at once (a batch's). */
  readonly readSites: (tenant: string, ids: readonly string[]) => Promise<Map<string, SiteFacts>>;
  readonly readDevices: (
    tenant: string,
    ids: readonly string[],
  ) => Promise<Map<string, DeviceFacts>>;
  readonly publish: (events: readonly GridstreamEvent[]) => Promise<void>;
  readonly nowMs: () => number;
  readonly newEventId: () => string;
  /** How far back a move may take effect (default DEFAULT_MAX_MOVE_PAST_MS). */
  readonly maxMovePastMs?: number;
}

export interface RegistryAnswer {
  readonly outcomes: readonly RegistryOutcome[];
  /** True when the Idempotency-Key had made this request before: nothing new was done. */
  readonly replayed: boolean;
}

/**
 * Registry commands of one request (one, or a batch of registrations), by `actor` (taken from
 * the authenticated context by the caller), for `tenant`.
 */
export class RunRegistryCommands extends Command<RegistryAnswer> {
  readonly tenant: string;
  readonly actor: string;
  readonly commands: readonly RegistryCommand[];
  readonly idempotencyKey: string | undefined;
  /**
   * The request as its sender sent it, where the caller filled in a default the sender left out
   * (a move's `effectiveAt` is the clock's): the Idempotency-Key is held to this, so a retry of
   * the same request is the same request, not one with a later clock.
   */
  readonly asSent: unknown;
  constructor(
    tenant: string,
    actor: string,
    commands: readonly RegistryCommand[],
    idempotencyKey?: string,
    asSent: unknown = commands,
  ) {
    super();
    this.tenant = tenant;
    this.actor = actor;
    this.commands = commands;
    this.idempotencyKey = idempotencyKey;
    this.asSent = asSent;
  }
}

const ATTEMPTS = 5;
/** How long a replay waits for the first request to publish what it recorded. */
const REPLAY_GRACE_MS = 5_000;
const REPLAY_POLL_MS = 50;

interface Known<F> {
  readonly facts: F | undefined;
  /** The write side's version; 0 when it has no document (facts from a read model, or none). */
  readonly version: number;
}

interface Change {
  readonly kind: EntityKind;
  readonly id: string;
  readonly previous: SiteFacts | DeviceFacts | undefined;
  readonly version: number;
}

const entityOf = (command: RegistryCommand): { kind: EntityKind; id: string } => {
  const subject = subjectOf(command);
  return subject.device === undefined
    ? { kind: 'site', id: subject.site ?? '' }
    : { kind: 'device', id: subject.device };
};

/**
 * A shell around decideRegistry: the key's record, the facts (the write side's, else the read
 * models'), decide, compare-and-set the entity's facts (a lost race is judged again on the new
 * facts), record the key, publish the events of the whole request at once. If publishing fails
 * the facts are put back and the key forgotten, so the request can be made again.
 */
export class RunRegistryCommandsHandler implements ICommandHandler<RunRegistryCommands> {
  readonly #ports: RegistryPorts;
  constructor(ports: RegistryPorts) {
    this.#ports = ports;
  }

  async execute(request: RunRegistryCommands): Promise<RegistryAnswer> {
    const { store } = this.#ports;
    const { tenant, idempotencyKey } = request;
    const fingerprint = requestFingerprint({ tenant, commands: request.asSent });
    if (idempotencyKey !== undefined) {
      const record = await store.findKey(tenant, idempotencyKey);
      if (record !== undefined) return this.#replay(request, record, fingerprint);
    }
    const changes: Change[] = [];
    const outcomes = await this.#decideAll(request, changes);
    const events = outcomes.flatMap((o) =>
      o.outcome === 'changed' && o.event !== undefined ? [o.event] : [],
    );
    const recorded =
      idempotencyKey !== undefined &&
      (await store.insertKey(tenant, idempotencyKey, fingerprint, outcomes));
    if (events.length > 0) {
      try {
        await this.#ports.publish(events);
      } catch (error) {
        for (const change of changes.reverse())
          await store.revert(tenant, change.kind, change.id, change.previous, change.version);
        if (recorded) await store.deleteKey(tenant, idempotencyKey);
        throw error;
      }
      if (recorded) await store.markPublished(tenant, idempotencyKey);
    }
    return { outcomes, replayed: false };
  }

  async #replay(
    request: RunRegistryCommands,
    recorded: KeyDocument,
    fingerprint: string,
  ): Promise<RegistryAnswer> {
    let record = recorded;
    const key = request.idempotencyKey ?? '';
    if (record.fingerprint !== fingerprint)
      throw new GridstreamError(
        'CONFLICT',
        `Idempotency-Key ${JSON.stringify(key)} was used for another request`,
        {
          reason: 'idempotency-key-reused',
          issues: [
            {
              in: 'headers',
              path: 'idempotency-key',
              message: 'already used for a different request',
            },
          ],
        },
      );
    // The request that recorded the key is likely publishing right now: give it time before
    // publishing its events again (a crash between recording and publishing leaves it to us).
    for (
      let waitedMs = 0;
      !record.published && waitedMs < REPLAY_GRACE_MS;
      waitedMs += REPLAY_POLL_MS
    ) {
      await new Promise((resolve) => setTimeout(resolve, REPLAY_POLL_MS));
      const again = await this.#ports.store.findKey(request.tenant, key);
      if (again === undefined) break;
      record = again;
    }
    if (!record.published) {
      const events = record.outcomes.flatMap((o) =>
        o.outcome === 'changed' && o.event !== undefined ? [o.event] : [],
      );
      await this.#ports.publish(events);
      await this.#ports.store.markPublished(request.tenant, key);
    }
    return { outcomes: record.outcomes, replayed: true };
  }

  /**
   * Every command of the request, judged in order. The facts of the whole request are read in a
   * few queries and each entity's first change is written with the others in one insert: a
   * batch of 1,000 registrations is a handful of round trips, not thousands. A second change
   * of an entity within the request, closing a site (it counts the site's devices), and a
   * change another request got to first are judged again one at a time (`#run`).
   */
  async #decideAll(request: RunRegistryCommands, changes: Change[]): Promise<RegistryOutcome[]> {
    const { tenant, actor, commands } = request;
    const known = await this.#prefetch(tenant, commands);
    const outcomes: (RegistryOutcome | undefined)[] = commands.map(() => undefined);
    const pending: {
      index: number;
      change: Change;
      outcome: RegistryOutcome;
      next: SiteFacts | DeviceFacts;
    }[] = [];
    const touched = new Set<string>();
    const again: number[] = [];
    const factsOf = <F>(kind: EntityKind, id: string | undefined): Known<F> =>
      (id === undefined ? undefined : (known.get(`${kind}/${id}`) as Known<F> | undefined)) ?? {
        facts: undefined,
        version: 0,
      };
    commands.forEach((command, index) => {
      const { kind, id } = entityOf(command);
      if (touched.has(`${kind}/${id}`) || command.type === 'close-site') {
        again.push(index);
        return;
      }
      const subject = subjectOf(command);
      const device = factsOf<DeviceFacts>('device', subject.device);
      const site = factsOf<SiteFacts>('site', subject.site ?? device.facts?.siteId);
      const decision = decideRegistry(
        command,
        { site: site.facts, device: device.facts },
        {
          tenant,
          actor,
          nowMs: this.#ports.nowMs(),
          eventId: this.#ports.newEventId(),
          maxMovePastMs: this.#ports.maxMovePastMs,
        },
      );
      if (decision.kind === 'refused') {
        outcomes[index] = { outcome: 'refused', kind, id, refusal: decision.refusal };
        return;
      }
      const entity: Known<SiteFacts | DeviceFacts> = kind === 'site' ? site : device;
      if (decision.kind === 'unchanged') {
        outcomes[index] = { outcome: 'unchanged', kind, id, facts: entity.facts };
        return;
      }
      const next =
        kind === 'site'
          ? evolveSiteFacts(site.facts, decision.event)
          : evolveDeviceFacts(device.facts, decision.event);
      if (next === undefined) {
        again.push(index);
        return;
      }
      touched.add(`${kind}/${id}`);
      known.set(`${kind}/${id}`, { facts: next, version: entity.version + 1 });
      pending.push({
        index,
        next,
        change: { kind, id, previous: entity.facts, version: entity.version + 1 },
        outcome: { outcome: 'changed', kind, id, event: decision.event, facts: next },
      });
    });
    const lost = await this.#ports.store.insertVersions(
      tenant,
      pending.map(({ change, next }) => ({
        kind: change.kind,
        id: change.id,
        facts: next,
        version: change.version,
      })),
    );
    for (const { index, change, outcome } of pending) {
      if (lost.has(`${change.kind}/${change.id}`)) again.push(index);
      else {
        outcomes[index] = outcome;
        changes.push(change);
      }
    }
    for (const index of again.sort((a, b) => a - b)) {
      const command = commands[index];
      if (command !== undefined) outcomes[index] = await this.#run(request, command, changes);
    }
    return outcomes.map(
      (o, index): RegistryOutcome =>
        o ?? {
          outcome: 'refused',
          ...entityOf(commands[index] as RegistryCommand),
          refusal: { code: 'CONFLICT', reason: 'not-judged', message: 'not judged' },
        },
    );
  }

  /** The facts of every site and device the commands name, and of the devices' own sites. */
  async #prefetch(
    tenant: string,
    commands: readonly RegistryCommand[],
  ): Promise<Map<string, Known<SiteFacts | DeviceFacts>>> {
    const known = new Map<string, Known<SiteFacts | DeviceFacts>>();
    const siteIds = new Set<string>();
    const deviceIds = new Set<string>();
    for (const command of commands) {
      const subject = subjectOf(command);
      if (subject.site !== undefined) siteIds.add(subject.site);
      if (subject.device !== undefined) deviceIds.add(subject.device);
    }
    const load = async <F extends SiteFacts | DeviceFacts>(
      kind: EntityKind,
      ids: readonly string[],
      fallback: (tenant: string, ids: readonly string[]) => Promise<Map<string, F>>,
    ) => {
      const written = await this.#ports.store.factsMany(tenant, kind, ids);
      const missing = ids.filter((id) => !written.has(id));
      const read = missing.length === 0 ? new Map<string, F>() : await fallback(tenant, missing);
      for (const id of ids) {
        const document = written.get(id);
        known.set(
          `${kind}/${id}`,
          document === undefined
            ? { facts: read.get(id), version: 0 }
            : { facts: document.facts ?? undefined, version: document.version },
        );
      }
    };
    await load<DeviceFacts>('device', [...deviceIds], this.#ports.readDevices);
    for (const id of deviceIds) {
      const siteId = (known.get(`device/${id}`)?.facts as DeviceFacts | undefined)?.siteId;
      if (siteId !== undefined) siteIds.add(siteId);
    }
    await load<SiteFacts>('site', [...siteIds], this.#ports.readSites);
    return known;
  }

  async #site(tenant: string, siteId: string | undefined): Promise<Known<SiteFacts>> {
    if (siteId === undefined) return { facts: undefined, version: 0 };
    const document = await this.#ports.store.facts(tenant, 'site', siteId);
    if (document !== undefined)
      return { facts: document.facts ?? undefined, version: document.version };
    return { facts: await this.#ports.readSite(tenant, siteId), version: 0 };
  }

  async #device(tenant: string, deviceId: string | undefined): Promise<Known<DeviceFacts>> {
    if (deviceId === undefined) return { facts: undefined, version: 0 };
    const document = await this.#ports.store.facts(tenant, 'device', deviceId);
    if (document !== undefined)
      return { facts: document.facts ?? undefined, version: document.version };
    return { facts: await this.#ports.readDevice(tenant, deviceId), version: 0 };
  }

  async #run(
    request: RunRegistryCommands,
    command: RegistryCommand,
    changes: Change[],
  ): Promise<RegistryOutcome> {
    const { tenant, actor } = request;
    const { kind, id } = entityOf(command);
    const subject = subjectOf(command);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const site = await this.#site(tenant, subject.site);
      const device = await this.#device(tenant, subject.device);
      const deviceSiteId = device.facts?.siteId;
      // a device's own site, for restoring it (not on a closed site)
      const ownSite =
        subject.site === undefined && deviceSiteId !== undefined
          ? await this.#site(tenant, deviceSiteId)
          : site;
      const activeDevicesOnSite =
        command.type === 'close-site' ? await this.#activeDevices(tenant, command.siteId) : 0;
      const decision = decideRegistry(
        command,
        { site: ownSite.facts, device: device.facts, activeDevicesOnSite },
        {
          tenant,
          actor,
          nowMs: this.#ports.nowMs(),
          eventId: this.#ports.newEventId(),
          maxMovePastMs: this.#ports.maxMovePastMs,
        },
      );
      if (decision.kind === 'refused')
        return { outcome: 'refused', kind, id, refusal: decision.refusal };
      if (decision.kind === 'unchanged')
        return {
          outcome: 'unchanged',
          kind,
          id,
          facts: kind === 'site' ? site.facts : device.facts,
        };
      const known: Known<SiteFacts | DeviceFacts> = kind === 'site' ? site : device;
      const next =
        kind === 'site'
          ? evolveSiteFacts(site.facts, decision.event)
          : evolveDeviceFacts(device.facts, decision.event);
      if (!(await this.#ports.store.compareAndSet(tenant, kind, id, next, known.version))) continue;
      changes.push({ kind, id, previous: known.facts, version: known.version + 1 });
      return { outcome: 'changed', kind, id, event: decision.event, facts: next };
    }
    const refusal: Refusal = {
      code: 'CONFLICT',
      reason: 'concurrent-change',
      message: `${kind} ${id} kept changing while this request was judged; try again`,
    };
    return { outcome: 'refused', kind, id, refusal };
  }

  async #activeDevices(tenant: string, siteId: string): Promise<number> {
    const [written, read] = await Promise.all([
      this.#ports.store.activeDeviceIds(tenant, siteId),
      this.#ports.readActiveDeviceIds(tenant, siteId),
    ]);
    let count = 0;
    for (const deviceId of new Set([...written, ...read])) {
      // the write side's facts are the newer: a device it moved off or decommissioned is gone
      const known = await this.#device(tenant, deviceId);
      if (known.facts?.status === 'active' && known.facts.siteId === siteId) count++;
    }
    return count;
  }
}

CommandHandler(RunRegistryCommands)(RunRegistryCommandsHandler);

export interface RegistryWriteSide {
  readonly commandBus: CommandBus;
  close(): Promise<void>;
}

/** A Nest application context with the CQRS module and the registry's handler (no HTTP layer). */
export async function startRegistryWriteSide(ports: RegistryPorts): Promise<RegistryWriteSide> {
  // Nest modules are classes that only carry metadata.
  // eslint-disable-next-line @typescript-eslint/no-extraneous-class
  class RegistryWriteModule {}
  Module({
    imports: [CqrsModule.forRoot()],
    providers: [
      {
        provide: RunRegistryCommandsHandler,
        useFactory: () => new RunRegistryCommandsHandler(ports),
      },
    ],
  })(RegistryWriteModule);
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
  const context = await NestFactory.createApplicationContext(RegistryWriteModule, {
    logger: false,
  });
  await context.init();
  return { commandBus: context.get(CommandBus), close: () => context.close() };
}
