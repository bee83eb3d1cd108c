import { AssignerProtocol } from 'kafkajs';
import type { Admin, GroupDescription, Kafka } from 'kafkajs';

/** Whether a member of a consumer group is subscribed to a topic (true when it cannot be told). */
function subscribes(member: GroupDescription['members'][number], topic: string): boolean {
  try {
    const metadata = AssignerProtocol.MemberMetadata.decode(member.memberMetadata);
    return metadata === null || metadata.topics.includes(topic);
  } catch {
    return true;
  }
}

/**
 * Whether a consumer group will read a record put back on a topic: it has committed offsets on
 * the topic (a service that is stopped resumes from them), or a member of it is subscribed to
 * the topic now (one that started but has not committed yet). A group that does neither is gone
 * (a projection's group names its build, and a rebuild deletes the old one) or never read it.
 */
export async function groupReadsTopic(admin: Admin, group: string, topic: string) {
  const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  if ((offsets?.partitions ?? []).some((p) => Number(p.offset) >= 0)) return true;
  const { groups } = await admin.describeGroups([group]);
  return (groups[0]?.members ?? []).some((member) => subscribes(member, topic));
}

/**
 * The consumer groups named under the topic prefix that read a topic now (groupReadsTopic's
 * committed offsets), for a refusal to name the one a letter should go to instead.
 */
export async function groupsReadingTopic(
  admin: Admin,
  topicPrefix: string,
  topic: string,
): Promise<string[]> {
  const { groups } = await admin.listGroups();
  const readers: string[] = [];
  for (const { groupId } of groups) {
    // (scanTopicToEnd's own groups, named so, are deleted when their scan is done)
    if (!groupId.startsWith(topicPrefix) || groupId.startsWith('read-to-end.')) continue;
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    if ((offsets?.partitions ?? []).some((p) => Number(p.offset) >= 0)) readers.push(groupId);
  }
  return readers.sort();
}

/**
 * Why a letter may not go back for `group` on `topic`, or undefined when the group reads it. A
 * copy for a group that does not read the topic is skipped by every group that does, so the
 * letter would be marked redriven and lost; `readers` are the groups to send it to instead.
 */
export function absentGroupReason(group: string, topic: string, readers: readonly string[]) {
  const instead =
    readers.length === 0
      ? 'no group of this deployment has committed offsets on it'
      : `groups reading it now: ${readers.join(', ')}`;
  return (
    `consumer group ${group} has no committed offsets on ${topic} and no member reading it ` +
    `(gone, or renamed: a projection's group changes with each rebuild), so no group would take ` +
    `the copy; send it to the group that reads ${topic} now with --to-group G (${instead}), ` +
    `or --force to put it back for ${group} all the same`
  );
}

/**
 * The checks of one redrive: whether each target group reads each source topic, asked once per
 * group and topic through one admin client, connected only when a letter needs it.
 */
export class RedriveTargets {
  readonly #kafka: Kafka;
  readonly #topicPrefix: string;
  #admin: Promise<Admin> | undefined;
  readonly #refusals = new Map<string, Promise<string | undefined>>();

  constructor(kafka: Kafka, topicPrefix: string) {
    this.#kafka = kafka;
    this.#topicPrefix = topicPrefix;
  }

  /** Why a letter may not go back for `group` on `topic`, or undefined when it may. */
  refusal(group: string, topic: string): Promise<string | undefined> {
    const key = JSON.stringify([group, topic]);
    let refusal = this.#refusals.get(key);
    if (refusal === undefined) {
      refusal = this.#check(group, topic);
      this.#refusals.set(key, refusal);
    }
    return refusal;
  }

  async #check(group: string, topic: string): Promise<string | undefined> {
    const admin = await (this.#admin ??= this.#connect());
    if (await groupReadsTopic(admin, group, topic)) return undefined;
    return absentGroupReason(
      group,
      topic,
      await groupsReadingTopic(admin, this.#topicPrefix, topic),
    );
  }

  async #connect(): Promise<Admin> {
    const admin = this.#kafka.admin();
    await admin.connect();
    return admin;
  }

  async close(): Promise<void> {
    const admin = await this.#admin?.catch(() => undefined);
    await admin?.disconnect();
  }
}
