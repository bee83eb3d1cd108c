/**
 * Values already found valid by a check that costs more than a lookup (a zod schema, a time
 * zone formatter), for values that repeat (a type, a source, a tenant, a device, a time zone):
 * each distinct value is checked once. Bounded: when full, it starts again from empty.
 */
export class KnownValid {
  readonly #isValid: (value: string) => boolean;
  readonly #values = new Set<string>();

  constructor(isValid: (value: string) => boolean) {
    this.#isValid = isValid;
  }

  test(value: string | undefined): value is string {
    if (value === undefined) return false;
    if (this.#values.has(value)) return true;
    if (!this.#isValid(value)) return false;
    if (this.#values.size >= 10_000) this.#values.clear();
    this.#values.add(value);
    return true;
  }
}
