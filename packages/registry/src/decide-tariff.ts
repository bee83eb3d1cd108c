import type { Refusal } from '@gridstream/commands';
import type { TariffVersion } from '@gridstream/events';

/**
 * A tariff version as an owner publishes it (parsed, defaults filled): `publishedAt` may be left
 * out, and is then the instant the registry accepts it (the event's time). It stays out of the
 * command so that a retry with the same Idempotency-Key is the same request.
 */
export type TariffVersionRequest = Omit<TariffVersion, 'publishedAt'> & {
  readonly publishedAt?: string | undefined;
};

/** What a site's tariff is judged by: its versions so far and whether it is open. */
export interface TariffSite {
  readonly siteId: string;
  readonly status: 'open' | 'closed';
  readonly tariffs?: readonly TariffVersion[] | undefined;
}

export type TariffJudgement =
  | { readonly kind: 'new' }
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'refused'; readonly refusal: Refusal };

/** JSON with keys sorted at every level: two versions are the same whatever their key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`;
  return JSON.stringify(value);
}

/** What a version says, not when it was said: `publishedAt` is left out. */
const contentOf = ({ publishedAt: _at, ...content }: TariffVersionRequest) => canonical(content);

/** The top-level fields two versions differ in (publishedAt aside). */
function differingFields(a: TariffVersionRequest, b: TariffVersionRequest): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  keys.delete('publishedAt');
  return [...keys].filter(
    (key) =>
      canonical((a as Record<string, unknown>)[key]) !==
      canonical((b as Record<string, unknown>)[key]),
  );
}

/**
 * Judges a tariff version for a site (pure). Its `id` names its content: the same id with the
 * same content again changes nothing, with other content it is a conflict. A closed site takes
 * no new version. All versions of a site share one currency, as the cost rules assume (a total
 * never mixes currencies: docs/cost.md), so a version in another currency is refused.
 */
export function judgeTariffVersion(
  site: TariffSite,
  request: TariffVersionRequest,
): TariffJudgement {
  const tariffs = site.tariffs ?? [];
  const recorded = tariffs.find((version) => version.id === request.id);
  if (recorded !== undefined) {
    if (contentOf(recorded) === contentOf(request)) return { kind: 'unchanged' };
    const fields = differingFields(recorded, request);
    return {
      kind: 'refused',
      refusal: {
        code: 'CONFLICT',
        reason: 'tariff-version-id-taken',
        message: `tariff version ${request.id} of site ${site.siteId} was published with another ${fields.join(', ')}; a changed version needs an id of its own`,
        issues: fields.map((path) => ({ path, message: 'differs from the published version' })),
      },
    };
  }
  if (site.status === 'closed')
    return {
      kind: 'refused',
      refusal: {
        code: 'CONFLICT',
        reason: 'site-closed',
        message: `site ${site.siteId} is closed; it takes no tariff versions`,
      },
    };
  const currency = tariffs[0]?.currency;
  if (currency !== undefined && currency !== request.currency)
    return {
      kind: 'refused',
      refusal: {
        code: 'CONFLICT',
        reason: 'tariff-currency-differs',
        message: `site ${site.siteId}'s tariff is in ${currency}: a version in ${request.currency} is refused (a site's tariff has one currency)`,
        issues: [{ path: 'currency', message: `the site's tariff is in ${currency}` }],
      },
    };
  return { kind: 'new' };
}

const byTakingEffect = (a: TariffVersion, b: TariffVersion) =>
  Date.parse(a.effectiveFrom) - Date.parse(b.effectiveFrom) ||
  Date.parse(a.publishedAt) - Date.parse(b.publishedAt) ||
  (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * A site's versions with one more (pure), in the order they take effect: by `effectiveFrom`,
 * then by publication (`publishedAt`, `id`: of two versions of one slot, the one in force is
 * last). A version whose id is there already changes nothing (the first content of an id
 * stands, as the registry judges it), so an event applied twice is applied once.
 */
export function withTariffVersion(
  tariffs: readonly TariffVersion[],
  version: TariffVersion,
): readonly TariffVersion[] {
  if (tariffs.some((known) => known.id === version.id)) return tariffs;
  return [...tariffs, version].sort(byTakingEffect);
}
