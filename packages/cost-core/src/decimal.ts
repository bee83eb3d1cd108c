import Big from 'big.js';

/**
 * Exact decimal arithmetic for money, prices and emissions (docs/cost.md, "Exact sums").
 *
 * big.js returns the exact result of `plus`, `minus` and `times`; only `div`, `sqrt` and `pow`
 * with a negative exponent round. The cost core never divides (Wh to kWh is `times('0.001')`),
 * so every figure it makes is exact, and sums are associative: the order intervals are added
 * in cannot change a total. Rounding happens once, in `presentMoney`.
 *
 * A private constructor, so the settings here cannot be changed by, or change, another user of
 * big.js in the same process. Strict: a JavaScript number is refused where a decimal is meant
 * (`decimal(0.1)` would carry the binary float's error in); energy in Wh is a number and comes
 * in through `kWhFromWh`, on purpose.
 */
const ExactDecimal = Big();
ExactDecimal.strict = true;
// Division is not used; if it ever is, it should be loud rather than quietly round at 20 places.
ExactDecimal.DP = 40;
ExactDecimal.RM = ExactDecimal.roundHalfUp;
// Plain notation in text and JSON (no "1e-8"): figures are read by people and spreadsheets.
ExactDecimal.NE = -60;
ExactDecimal.PE = 60;

export type Decimal = Big.Big;

export const ZERO: Decimal = new ExactDecimal('0');

/** A decimal from its text, e.g. a price `'0.3124'`; throws on anything else. */
export function decimal(text: string): Decimal {
  return new ExactDecimal(text);
}

/**
 * kWh from Wh. Energy figures are JavaScript numbers (energy-core); the value taken is the
 * number's shortest round-trip text (`String(x)`), which is what QuestDB and JSON carry too.
 */
export function kWhFromWh(wh: number): Decimal {
  if (!Number.isFinite(wh)) throw new RangeError(`energy must be finite, got ${wh}`);
  return new ExactDecimal(String(wh)).times('0.001');
}

export function sum(values: Iterable<Decimal>): Decimal {
  let total = ZERO;
  for (const value of values) total = total.plus(value);
  return total;
}

export function maxDecimal(a: Decimal, b: Decimal): Decimal {
  return a.gte(b) ? a : b;
}

export function minDecimal(a: Decimal, b: Decimal): Decimal {
  return a.lte(b) ? a : b;
}

// Minor units per currency from the runtime's CLDR data (EUR 2, JPY 0, KWD 3), one formatter
// per currency kept: a cache, not state.
const minorUnits = new Map<string, number>();

export function currencyMinorUnits(currency: string): number {
  let digits = minorUnits.get(currency);
  if (digits === undefined) {
    digits =
      new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
        .maximumFractionDigits ?? 2;
    minorUnits.set(currency, digits);
  }
  return digits;
}

/**
 * A money amount as shown to a person or on a statement: rounded half up ("kaufmännisch",
 * away from zero on a tie) to the currency's minor unit. The only rounding of money there is.
 */
export function presentMoney(amount: Decimal, currency: string): string {
  return amount
    .round(currencyMinorUnits(currency), ExactDecimal.roundHalfUp)
    .toFixed(currencyMinorUnits(currency));
}

/** Grams of CO2e as shown: whole grams, half up. */
export function presentGrams(grams: Decimal): string {
  return grams.round(0, ExactDecimal.roundHalfUp).toFixed(0);
}
