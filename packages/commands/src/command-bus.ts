import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Command, CommandBus, CommandHandler, CqrsModule } from '@nestjs/cqrs';
import type { ICommandHandler } from '@nestjs/cqrs';

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
  /** False when the key has a record already (another request got there first). */
  insert(tenant: string, idempotencyKey: string, record: IdempotencyRecord): Promise<boolean>;
  markPublished(tenant: string, idempotencyKey: string): Promise<void>;
}

export interface StoredIdempotencyRecord extends IdempotencyRecord {
  /** False until Kafka acknowledged the event: a replay then publishes it (same id) again. */
  readonly published: boolean;
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

/** How long a replay waits for the first request to publish what it recorded. */
const REPLAY_GRACE_MS = 5_000;
const REPLAY_POLL_MS = 50;

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
 * (or follows a crash between the two steps) replays the recorded event, with the same id.
 */
export class RequestDeviceCommandHandler implements ICommandHandler<RequestDeviceCommand> {
  readonly #ports: CommandWritePorts;
  constructor(ports: CommandWritePorts) {
    this.#ports = ports;
  }

  async execute({ request }: RequestDeviceCommand): Promise<CommandAccepted> {
    const { idempotency } = this.#ports;
    const fingerprints = fingerprintsOf(request);
    for (let attempt = 0; attempt < 3; attempt++) {
      const stored = await idempotency.find(request.tenant, request.idempotencyKey);
      const key = decideKey(stored, fingerprints, request.idempotencyKey);
      if (key.kind === 'refused') throw refusalError(key.refusal);
      if (key.kind === 'replay') {
        if (!(await this.#publishedSoon(request))) await this.#publish(request, key.event);
        return { event: key.event, replayed: true };
      }
      const device = await this.#ports.findDevice(request.tenant, request.deviceId);
      const decision = decideRequest(device, request, this.#ports.nowMs(), this.#ports.rules);
      if (!decision.accepted) throw refusalError(decision.refusal);
      const recorded = await idempotency.insert(request.tenant, request.idempotencyKey, {
        fingerprint: fingerprints.value,
        event: decision.event,
      });
      if (!recorded) continue;
      await this.#publish(request, decision.event);
      return { event: decision.event, replayed: false };
    }
    throw new Error(`Idempotency-Key ${request.idempotencyKey}: no record after inserting one`);
  }

  /**
   * Whether the request that recorded the key has published its event, waiting a moment for it:
   * racing twins of a request find the record before its maker has published, and publishing
   * it again from each of them put the same command.requested on Kafka up to four times. A
   * record still unpublished after the wait was left by a crash: the replay publishes it.
   */
  async #publishedSoon(request: CommandRequest): Promise<boolean> {
    for (let waitedMs = 0; ; waitedMs += REPLAY_POLL_MS) {
      const stored = await this.#ports.idempotency.find(request.tenant, request.idempotencyKey);
      if (stored?.published === true) return true;
      if (waitedMs >= REPLAY_GRACE_MS) return false;
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
