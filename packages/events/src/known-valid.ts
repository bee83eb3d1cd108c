/**
 * Values already found valid by a check that costs more than a lookup (a zod schema, a time
 * zone formatter), for values that repeat (a type, a source, a tenant, a device, a time zone):
 * each distinct value is checked once. Bounded: when full, it starts again from empty.
 */
export class KnownValid {
  readonly #isValid: (value: string) => boolean;
  /** Each valid value by itself: the first instance seen, which `canonical` hands out. */
  readonly #values = new Map<string, string>();

  constructor(isValid: (value: string) => boolean) {
    this.#isValid = isValid;
  }

  test(value: string | undefined): value is string {
    return this.canonical(value) !== undefined;
  }

  /**
   * The value if valid, as the instance first seen: a consumer that keeps a value per record (a
   * device id in every reading a timeline holds) keeps one string for all of them, and the
   * record's own copy dies young instead of being promoted with the reading.
   */
  canonical(value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    const known = this.#values.get(value);
    if (known !== undefined) return known;
    if (!this.#isValid(value)) return undefined;
    if (this.#values.size >= 10_000) this.#values.clear();
    this.#values.set(value, value);
    return value;
  }
}
