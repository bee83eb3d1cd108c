import { localDate, localDayStartMs } from '@gridstream/energy-core';
import { decimal } from './decimal.ts';
import type { Decimal } from './decimal.ts';
import type { TariffBook } from './tariff-book.ts';

const HOUR_MS = 3_600_000;
const QUARTER_HOUR_MS = 15 * 60_000;

/**
 * The fixed fee of one local day of the site: charged once per local day, whatever its length
 * (92 quarter hours on a spring-forward day, 100 on a fall-back day), by the version in force
 * at the day's first instant (local midnight). Null fee without a version then.
 */
export interface DayFee {
  readonly localDate: string;
  readonly startMs: number;
  readonly endMs: number;
  readonly quarterHours: number;
  readonly tariffVersionId: string | null;
  readonly currency: string | null;
  readonly fee: Decimal | null;
  readonly vatRate: string | null;
  readonly feeVat: Decimal | null;
}

/** The local days of `timeZone` that start in [fromMs, toMs), each with its fee. */
export function dayFeesBetween(
  tariffs: TariffBook,
  timeZone: string,
  fromMs: number,
  toMs: number,
): DayFee[] {
  const fees: DayFee[] = [];
  let startMs = localDayStartMs(fromMs, timeZone);
  if (startMs < fromMs) startMs = localDayStartMs(startMs + 26 * HOUR_MS, timeZone);
  while (startMs < toMs) {
    const endMs = localDayStartMs(startMs + 26 * HOUR_MS, timeZone);
    const version = tariffs.at(startMs)?.version;
    const fee = version === undefined ? null : decimal(version.dailyFee);
    fees.push({
      localDate: localDate(startMs, timeZone),
      startMs,
      endMs,
      quarterHours: (endMs - startMs) / QUARTER_HOUR_MS,
      tariffVersionId: version?.id ?? null,
      currency: version?.currency ?? null,
      fee,
      vatRate: version?.vatRate ?? null,
      feeVat: fee === null || version === undefined ? null : fee.times(version.vatRate),
    });
    startMs = endMs;
  }
  return fees;
}
