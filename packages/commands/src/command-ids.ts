import { v5 as uuidv5 } from 'uuid';

/** Namespace of command ids and their events' ids (a fixed random UUID; never change it). */
const COMMAND_NAMESPACE = 'a3c1f0e6-5f0b-4d5e-9d7e-2b1f7c9e4a11';

/**
 * A command's id is a name-based UUID of its tenant and the client's Idempotency-Key: the same
 * key always names the same command, so even two requests racing past every check publish one
 * command (same id), which the processor and the read model count once.
 */
export function commandIdFor(tenant: string, idempotencyKey: string): string {
  return uuidv5(`${tenant}\n${idempotencyKey}`, COMMAND_NAMESPACE);
}

/** The id of one lifecycle event of a command: the same step of the same command, the same id. */
export function commandEventId(tenant: string, commandId: string, step: string): string {
  return uuidv5(`${tenant}\n${commandId}\n${step}`, COMMAND_NAMESPACE);
}
