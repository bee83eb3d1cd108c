import type { LocalTime } from '@gridstream/energy-core';
import { monthDayOf, quarterOfDay, seasonHolds, weekdayOf } from '@gridstream/events';
import type { TimeOfUsePrice, TouPeriod } from '@gridstream/events';

/**
 * The time-of-use period in force at a local wall time. The schedule is written in the site's
 * wall-clock time, so a quarter hour is priced by its own local date and time, whatever the
 * offset: the two 02:15 quarter hours of a fall-back night both get the 02:15 period, and a
 * spring-forward night has no 02:xx quarter hours to price. The schema guarantees exactly one
 * season per date and one period per quarter hour of the week.
 */
export function timeOfUsePeriodAt(price: TimeOfUsePrice, local: LocalTime): TouPeriod {
  const monthDay = monthDayOf(local.month, local.day);
  const season = price.seasons.find((s) => seasonHolds(s.from, s.to, monthDay));
  const weekday = weekdayOf(local.year, local.month, local.day);
  const quarter = local.hour * 4 + Math.floor(local.minute / 15);
  const period = season?.periods.find(
    (p) =>
      p.weekdays.includes(weekday) &&
      quarterOfDay(p.from) <= quarter &&
      quarter < quarterOfDay(p.to),
  );
  if (period === undefined) {
    // Only reachable with a schedule that did not pass timeOfUsePriceSchema.
    throw new RangeError(`no time-of-use period at ${monthDay} ${weekday} quarter ${quarter}`);
  }
  return period;
}
