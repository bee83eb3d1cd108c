import { v5 as uuidv5 } from 'uuid';

/** Namespace of the processor's event ids (a fixed random UUID; never change it). */
const PROCESSOR_NAMESPACE = '5d0f3b7e-8a61-4c2b-b9a4-7e8c1d2f6a30';

/** The id of one step of one command: the same step, redone, has the same id. */
export function commandEventId(tenant: string, commandId: string, step: string): string {
  return uuidv5(`${tenant}\n${commandId}\n${step}`, PROCESSOR_NAMESPACE);
}
