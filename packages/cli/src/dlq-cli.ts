import { parseArgs } from 'node:util';
import type { Config } from '@gridstream/config';
import {
  createKafka,
  findLetters,
  kafkaSettings,
  letterJson,
  redriveLetters,
  TOPIC_ROLES,
  topicNames,
} from '@gridstream/kafka';
import type { LetterFilter, RedriveOutcome, RedriveRecord, StoredLetter } from '@gridstream/kafka';

export const DLQ_USAGE = `usage: gridstream dlq <list|show|redrive> [options]

  dlq list [filters] [--json]
             the dead letters, oldest first: id, when, source topic/partition@offset, the group
             that could not use it, stage, tenant, event type, the reason, and whether it was
             redriven (--json: one JSON object a line, key and value included)
  dlq show ID... [--json]
             everything a letter holds: the reason, its source, the original headers, key and
             value (as text when it is UTF-8, else base64), and its redrive if it had one
  dlq redrive (ID... | filters | --all) [--to-group G | --all-groups] [--force] [--upcast]
             [--dry-run]
             put letters back on their source topic and partition, with their original key,
             value and headers, and write beside each in the DLQ that it was (when, where, for
             which group, by whom): a letter is never redriven twice. By default a letter goes
             back for the one consumer group that dead-lettered it (the others handled the
             original and skip the copy); --to-group G sends it to G only, --all-groups to every
             group. A letter for a group that does not read its topic (no committed offsets, no
             member: a projection's old build, say) is refused, as no group would take the copy,
             unless --force. --upcast re-encodes the event as its type's newest version first.
             Letters cut to fit the DLQ are refused (their original is gone). Each refusal is
             printed with its reason, and the exit status is 1 when any letter was refused

filters (list, show and redrive alike; every one given must hold):
  --topic T          source topic, whole name or role (${TOPIC_ROLES.filter((r) => r !== 'dlq').join(', ')})
  --group G          the consumer group that dead-lettered it
  --reason TEXT      the reason contains TEXT (case-insensitive)
  --stage S          decode or process
  --tenant T         the original's CloudEvents tenant
  --since TIME       dead-lettered at or after TIME: an instant (2026-12-05T10:00Z) or an age (30m, 6h, 7d)
  --until TIME       dead-lettered before TIME
  --redriven, --not-redriven   only letters redriven already / not yet
  --limit N          list: the newest N matching letters (default 100; 0 for all)`;

const AGE = /^(\d+(?:\.\d+)?)(s|m|h|d)$/;
const AGE_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** An instant, or an age before `now` (30m, 6h, 7d); RangeError for anything else. */
export function parseTime(text: string, option: string, now = Date.now()): Date {
  const age = AGE.exec(text);
  if (age !== null) {
    const unit = age[2] as keyof typeof AGE_MS;
    return new Date(now - Number(age[1]) * AGE_MS[unit]);
  }
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || !Number.isFinite(ms))
    throw new RangeError(
      `${option} '${text}' is neither an instant (2026-12-05T10:00Z) nor an age (30m, 6h, 7d)`,
    );
  return new Date(ms);
}

const oneLine = (text: string, max: number) => {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

function redriveText(redrive: RedriveRecord): string {
  const group = redrive.group === null ? 'every group' : `group ${redrive.group}`;
  return `redriven ${redrive.at} for ${group}${redrive.upcast ? ', upcast' : ''} by ${redrive.by}`;
}

function summaryLine(letter: StoredLetter): string {
  const where = `${letter.source.topic}/${letter.source.partition}@${letter.source.offset}`;
  const redrive = letter.redrive === undefined ? '' : `  [${redriveText(letter.redrive)}]`;
  const copies = letter.copies.length === 0 ? '' : `  [also written as ${letter.copies.join(' ')}]`;
  return [
    letter.id,
    letter.dlqTime,
    where,
    letter.consumerGroup ?? '(no group)',
    letter.stage ?? '?',
    letter.tenant ?? '-',
    letter.type ?? '-',
    oneLine(letter.reason, 160) + redrive + copies,
  ].join('  ');
}

/**
 * What `dlq redrive` prints: a line a letter put back, a line a letter refused with its reason,
 * a count. Exit status 1 when any was refused: a script must not take letters left in the DLQ
 * for done (a dry run too, so it can check first).
 */
export function redriveReport(
  outcome: RedriveOutcome,
  dryRun: boolean,
): { readonly lines: string[]; readonly exitCode: number } {
  const verb = dryRun ? 'would redrive' : 'redriven';
  const lines = [
    ...outcome.redriven.map(
      (record) =>
        `${record.letter}  ${verb} to ${record.topic}/${record.partition} for ${record.group === null ? 'every group' : `group ${record.group}`}${record.upcast ? ' (upcast)' : ''}`,
    ),
    ...outcome.refused.map(({ letter, reason }) => `${letter}  refused: ${reason}`),
    `${outcome.redriven.length} ${verb}, ${outcome.refused.length} refused` +
      (dryRun ? ' (dry run: nothing written)' : ''),
  ];
  return { lines, exitCode: outcome.refused.length === 0 ? 0 : 1 };
}

const FILTER_OPTIONS = {
  topic: { type: 'string' },
  group: { type: 'string' },
  reason: { type: 'string' },
  stage: { type: 'string' },
  tenant: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  redriven: { type: 'boolean', default: false },
  'not-redriven': { type: 'boolean', default: false },
} as const;

interface FilterValues {
  readonly topic?: string;
  readonly group?: string;
  readonly reason?: string;
  readonly stage?: string;
  readonly tenant?: string;
  readonly since?: string;
  readonly until?: string;
  readonly redriven?: boolean;
  readonly 'not-redriven'?: boolean;
}

/** The filter the options and ids name; RangeError for a value that cannot be one. */
export function letterFilter(values: FilterValues, ids: readonly string[]): LetterFilter {
  if (values.stage !== undefined && values.stage !== 'decode' && values.stage !== 'process')
    throw new RangeError(`--stage is decode or process, not '${values.stage}'`);
  if (values.redriven === true && values['not-redriven'] === true)
    throw new RangeError('--redriven and --not-redriven exclude each other');
  for (const id of ids)
    if (!/^\d+-\d+$/.test(id))
      throw new RangeError(`'${id}' is not a letter id (partition-offset, as dlq list prints)`);
  if (
    values.topic !== undefined &&
    !values.topic.includes('.') &&
    !(TOPIC_ROLES as readonly string[]).includes(values.topic)
  )
    throw new RangeError(
      `--topic '${values.topic}' is neither a topic name nor one of ${TOPIC_ROLES.join(', ')}`,
    );
  return {
    ...(ids.length > 0 ? { ids: new Set(ids) } : {}),
    ...(values.topic === undefined ? {} : { sourceTopic: values.topic }),
    ...(values.group === undefined ? {} : { consumerGroup: values.group }),
    ...(values.reason === undefined ? {} : { reason: values.reason }),
    ...(values.stage === undefined ? {} : { stage: values.stage }),
    ...(values.tenant === undefined ? {} : { tenant: values.tenant }),
    ...(values.since === undefined ? {} : { since: parseTime(values.since, '--since') }),
    ...(values.until === undefined ? {} : { until: parseTime(values.until, '--until') }),
    ...(values.redriven === true ? { redriven: true } : {}),
    ...(values['not-redriven'] === true ? { redriven: false } : {}),
  };
}

/** `gridstream dlq ...`; throws RangeError for a usage mistake. */
export async function dlqCommand(
  config: Config,
  argv: readonly string[],
  out: (line: string) => void,
): Promise<number> {
  const { positionals, values } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      ...FILTER_OPTIONS,
      json: { type: 'boolean', default: false },
      limit: { type: 'string', default: '100' },
      'to-group': { type: 'string' },
      'all-groups': { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      all: { type: 'boolean', default: false },
      upcast: { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
    },
  });
  const [action, ...ids] = positionals;
  const topics = topicNames(config.GS_TOPIC_PREFIX);
  const kafka = createKafka(kafkaSettings(config, `${config.GS_KAFKA_CLIENT_ID}-dlq`));
  switch (action) {
    case 'list': {
      const limit = Number(values.limit);
      if (!Number.isSafeInteger(limit) || limit < 0)
        throw new RangeError(`--limit is a whole number, not '${values.limit}'`);
      const filter = letterFilter(values, ids);
      const { letters, scanned, topicExists } = await findLetters(kafka, topics.dlq, filter, {
        keepBytes: values.json,
      });
      const shown = limit === 0 ? letters : letters.slice(-limit);
      for (const letter of shown)
        out(values.json ? JSON.stringify(letterJson(letter)) : summaryLine(letter));
      if (!topicExists) {
        out(`there is no topic ${topics.dlq}: nothing was ever dead-lettered with this prefix`);
        return 0;
      }
      if (!values.json) {
        const redriven = letters.filter((l) => l.redrive !== undefined).length;
        out(
          `${letters.length} of ${scanned} letters in ${topics.dlq} match (${redriven} redriven)` +
            (shown.length < letters.length ? `; the newest ${shown.length} shown (--limit)` : ''),
        );
      }
      return 0;
    }
    case 'show': {
      if (ids.length === 0) throw new RangeError('name the letters to show by id');
      const filter = letterFilter(values, ids);
      const { letters } = await findLetters(kafka, topics.dlq, filter);
      const missing = ids.filter((id) => !letters.some((l) => l.id === id));
      for (const letter of letters) {
        const json = letterJson(letter);
        if (values.json) {
          out(JSON.stringify(json));
          continue;
        }
        out(`letter ${letter.id} (in ${topics.dlq} since ${letter.dlqTime})`);
        out(
          `  source     ${letter.source.topic} partition ${letter.source.partition} offset ${letter.source.offset}`,
        );
        out(
          `  group      ${letter.consumerGroup ?? '(none)'}, stage ${letter.stage ?? '?'}, failed at ${letter.failedAt ?? '?'}`,
        );
        out(`  reason     ${letter.reason}`);
        if (letter.copies.length > 0)
          out(`  copies     ${letter.copies.join(' ')} (the same letter, written again)`);
        if (letter.truncated.length > 0)
          out(
            `  cut        ${letter.truncated.join(', ')} (original ${letter.originalSize ?? '?'} bytes, sha256 ${letter.originalSha256 ?? '?'})`,
          );
        out(
          `  redrive    ${letter.redrive === undefined ? 'not redriven' : redriveText(letter.redrive)}`,
        );
        out('  headers');
        for (const [name, headerValues] of Object.entries(json.headers))
          for (const value of headerValues) out(`    ${name}: ${value}`);
        out(
          `  key        ${json.key === null ? '(none)' : 'text' in json.key ? json.key.text : `base64 ${json.key.base64}`}`,
        );
        if (json.value === null) out('  value      (none)');
        else if ('text' in json.value) out(`  value      ${json.value.text}`);
        else out(`  value      base64 ${json.value.base64}`);
      }
      for (const id of missing)
        out(`letter ${id}: not in ${topics.dlq} (or not matching the filters)`);
      return missing.length === 0 ? 0 : 1;
    }
    case 'redrive': {
      const filter = letterFilter(values, ids);
      const narrowed = Object.keys(filter).length > 0;
      if (!narrowed && !values.all)
        throw new RangeError('name letters by id, or narrow them with filters, or say --all');
      if (values['to-group'] !== undefined && values['all-groups'])
        throw new RangeError('--to-group and --all-groups exclude each other');
      const group = values['all-groups'] ? null : values['to-group'];
      const outcome = await redriveLetters(
        kafka,
        {
          dlq: topics.dlq,
          sources: new Set(Object.values(topics).filter((t) => t !== topics.dlq)),
        },
        filter,
        {
          ...(group === undefined ? {} : { group }),
          force: values.force,
          upcast: values.upcast,
          dryRun: values['dry-run'],
        },
      );
      const report = redriveReport(outcome, values['dry-run']);
      for (const line of report.lines) out(line);
      return report.exitCode;
    }
    default:
      throw new RangeError(`unknown dlq action '${action ?? ''}'`);
  }
}
