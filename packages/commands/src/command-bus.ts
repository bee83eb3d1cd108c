import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Command, CommandBus, CommandHandler, CqrsModule } from '@nestjs/cqrs';
import type { ICommandHandler } from '@nestjs/cqrs';
import { GridstreamError } from '@gridstream/errors';

export type { CommandBus } from '@nestjs/cqrs';
import type { GridstreamEvent } from '@gridstream/events';
import { decideCancel } from './decide-cancel.ts';
import type { CancelRequest, CancellationRequestedEvent, CommandFacts } from './decide-cancel.ts';
import { decideKey, decideRequest, fingerprintsOf } from './decide-request.ts';
import type {
  CommandRequest,
  CommandRequestedEvent,
  DeviceFacts,
  IdempotencyRecord,
  RequestRules,
} from './decide-request.ts';
import { refusalError } from './refusal.ts';

/** Where the write side remembers each Idempotency-Key (MongoDB in production: idempotency-store.ts). */
export interface IdempotencyStore {
  find(tenant: string, idempotencyKey: string): Promise<StoredIdempotencyRecord | undefined>;
  /**
   * False when the key has a record already (another request got there first). The request that
   * inserts it holds the claim to publish its event until `publishingUntilMs`.
   */
  insert(
    tenant: string,
    idempotencyKey: string,
    record: IdempotencyRecord,
    publishingUntilMs: number,
  ): Promise<boolean>;
  /**
   * Atomically takes over publishing an unpublished record whose claim ran out by `nowMs` (its
   * maker crashed, or is stuck), until `untilMs`; false when published or claimed by another.
   */
  claimPublish(
    tenant: string,
    idempotencyKey: string,
    nowMs: number,
    untilMs: number,
  ): Promise<boolean>;
  markPublished(tenant: string, idempotencyKey: string): Promise<void>;
}

export interface StoredIdempotencyRecord extends IdempotencyRecord {
  /** False until Kafka acknowledged the event: a replay then sees it published, once. */
  readonly published: boolean;
  /** While unpublished: until when the request publishing it holds the claim (absent on older records). */
  readonly publishingUntilMs?: number;
}

/** What the command handlers read and write; the API wires the real servers in. */
export interface CommandWritePorts {
  readonly findDevice: (tenant: string, deviceId: string) => Promise<DeviceFacts | undefined>;
  readonly findCommand: (tenant: string, commandId: string) => Promise<CommandFacts | undefined>;
  readonly idempotency: IdempotencyStore;
  readonly publish: (events: readonly GridstreamEvent[]) => Promise<void>;
  readonly nowMs: () => number;
  readonly rules: RequestRules;
}

export interface CommandAccepted {
  readonly event: CommandRequestedEvent;
  /** True when the Idempotency-Key had made this command before: nothing new was made. */
  readonly replayed: boolean;
}

/**
 * How long a request holds the claim to publish the event it recorded: its racing twins wait
 * that long for it before one of them takes over (a crash came between recording and publishing).
 */
export const PUBLISH_CLAIM_MS = 5_000;
/** How often a replay looks whether the event it waits for is published. */
const REPLAY_POLL_MS = 50;
/** A replay that saw no event published in this time answers 503, to be retried. */
const REPLAY_WAIT_MAX_MS = 3 * PUBLISH_CLAIM_MS;

/** Ask a device to do something (POST /v1/devices/:id/commands). */
export class RequestDeviceCommand extends Command<CommandAccepted> {
  readonly request: CommandRequest;
  constructor(request: CommandRequest) {
    super();
    this.request = request;
  }
}

/** Ask to cancel a command (POST /v1/commands/:id/cancel). */
export class CancelDeviceCommand extends Command<CancellationRequestedEvent> {
  readonly request: CancelRequest;
  constructor(request: CancelRequest) {
    super();
    this.request = request;
  }
}

/**
 * A shell: the Idempotency-Key's record, then the device, then decide, then record the key and
 * publish. The key is recorded before publishing, so a request that loses a race with its twin
 * (or follows a crash between the two steps) replays the recorded event, with the same id, and
 * sees it published by the one request that holds the record's claim.
 */
export class RequestDeviceCommandHandler implements ICommandHandler<RequestDeviceCommand> {
  readonly #ports: CommandWritePorts;
  constructor(ports: CommandWritePorts) {
    this.#ports = ports;
  }

  async execute({ request }: RequestDeviceCommand): Promise<CommandAccepted> {
    const { idempotency, nowMs } = this.#ports;
    const fingerprints = fingerprintsOf(request);
    for (let attempt = 0; attempt < 3; attempt++) {
      const stored = await idempotency.find(request.tenant, request.idempotencyKey);
      const key = decideKey(stored, fingerprints, request.idempotencyKey);
      if (key.kind === 'refused') throw refusalError(key.refusal);
      if (key.kind === 'replay') {
        await this.#seePublished(request, key.event);
        return { event: key.event, replayed: true };
      }
      const device = await this.#ports.findDevice(request.tenant, request.deviceId);
      const decision = decideRequest(device, request, nowMs(), this.#ports.rules);
      if (!decision.accepted) throw refusalError(decision.refusal);
      const recorded = await idempotency.insert(
        request.tenant,
        request.idempotencyKey,
        { fingerprint: fingerprints.value, event: decision.event },
        nowMs() + PUBLISH_CLAIM_MS,
      );
      if (!recorded) continue;
      await this.#publish(request, decision.event);
      return { event: decision.event, replayed: false };
    }
    throw new Error(`Idempotency-Key ${request.idempotencyKey}: no record after inserting one`);
  }

  /**
   * A replay answers once the recorded event is on Kafka, published once: racing twins of a
   * request find its record before its maker has published, and each publishing it again put
   * the same command.requested on Kafka up to eight times. So only the holder of the record's
   * claim publishes: its maker, or, once the claim has run out unredeemed (a crash between
   * recording and publishing), the one replay that takes it over.
   */
  async #seePublished(request: CommandRequest, event: CommandRequestedEvent): Promise<void> {
    const { idempotency, nowMs } = this.#ports;
    const { tenant, idempotencyKey } = request;
    const giveUpAtMs = nowMs() + REPLAY_WAIT_MAX_MS;
    for (;;) {
      const stored = await idempotency.find(tenant, idempotencyKey);
      if (stored?.published !== false) return;
      const atMs = nowMs();
      const claimOver = (stored.publishingUntilMs ?? 0) <= atMs;
      if (
        claimOver &&
        (await idempotency.claimPublish(tenant, idempotencyKey, atMs, atMs + PUBLISH_CLAIM_MS))
      ) {
        await this.#publish(request, event);
        return;
      }
      if (atMs >= giveUpAtMs)
        throw new GridstreamError(
          'DEPENDENCY_UNAVAILABLE',
          `the command of Idempotency-Key ${JSON.stringify(idempotencyKey)} is not published yet; try again`,
        );
      await new Promise((resolve) => setTimeout(resolve, REPLAY_POLL_MS));
    }
  }

  async #publish(request: CommandRequest, event: CommandRequestedEvent): Promise<void> {
    await this.#ports.publish([event]);
    await this.#ports.idempotency.markPublished(request.tenant, request.idempotencyKey);
  }
}

export class CancelDeviceCommandHandler implements ICommandHandler<CancelDeviceCommand> {
  readonly #ports: CommandWritePorts;
  constructor(ports: CommandWritePorts) {
    this.#ports = ports;
  }

  async execute({ request }: CancelDeviceCommand): Promise<CancellationRequestedEvent> {
    const command = await this.#ports.findCommand(request.tenant, request.commandId);
    const decision = decideCancel(command, request, this.#ports.nowMs());
    if (!decision.accepted) throw refusalError(decision.refusal);
    await this.#ports.publish([decision.event]);
    return decision.event;
  }
}

CommandHandler(RequestDeviceCommand)(RequestDeviceCommandHandler);
CommandHandler(CancelDeviceCommand)(CancelDeviceCommandHandler);

export interface CommandWriteSide {
  readonly commandBus: CommandBus;
  close(): Promise<void>;
}

/**
 * A Nest application context with the CQRS module and the two handlers, no HTTP layer: the
 * Fastify routes execute commands on its CommandBus. Decorators are applied as functions
 * (the code runs on Node's type stripping) and handlers are built by factories, so no
 * decorator metadata is needed.
 */
export async function startCommandWriteSide(ports: CommandWritePorts): Promise<CommandWriteSide> {
  // Nest modules are classes that only carry metadata.
  // eslint-disable-next-line @typescript-eslint/no-extraneous-class
  class CommandWriteModule {}
  Module({
    imports: [CqrsModule.forRoot()],
    providers: [
      {
        provide: RequestDeviceCommandHandler,
        useFactory: () => new RequestDeviceCommandHandler(ports),
      },
      {
        provide: CancelDeviceCommandHandler,
        useFactory: () => new CancelDeviceCommandHandler(ports),
      },
    ],
  })(CommandWriteModule);
  // Nest types its options as a class; a plain object is what it reads.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
  const context = await NestFactory.createApplicationContext(CommandWriteModule, { logger: false });
  await context.init();
  return {
    commandBus: context.get(CommandBus),
    close: () => context.close(),
  };
}
