import { Bar, BarChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis, type TooltipContentProps } from 'recharts';
import type { DailyEnergy } from '@shared/contract';
import { formatEnergyJ, formatSignificant } from '../lib/format';

/** Most models drawn with their own colour; the rest share "Other models". */
const MAX_SERIES = 6;

/** `YYYY-MM-DD` of a local calendar day. */
export function localDay(at: number): string {
  const d = new Date(at);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** The last `count` local calendar days, oldest first, ending with the day of `now`. */
export function lastDays(count: number, now: number = Date.now()): string[] {
  const days: string[] = [];
  const d = new Date(now);
  d.setHours(12, 0, 0, 0); // noon: daylight-saving changes never skip or repeat a day
  for (let i = count - 1; i >= 0; i--) {
    const day = new Date(d);
    day.setDate(d.getDate() - i);
    days.push(localDay(day.getTime()));
  }
  return days;
}

function dayLabel(day: string, long = false): string {
  const [y, m, d] = day.split('-').map(Number);
  const date = new Date(y ?? 1970, (m ?? 1) - 1, d ?? 1, 12);
  return date.toLocaleDateString(undefined, long ? { weekday: 'short', day: 'numeric', month: 'short' } : { day: 'numeric', month: 'short' });
}

/** Round axis ticks from 0 to at least `max`: about `count` steps of 1, 2, 2.5 or 5 × 10ⁿ. */
export function niceTicks(max: number, count = 4): number[] {
  if (!Number.isFinite(max) || max <= 0) return [0, 1];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  const ticks: number[] = [];
  for (let v = 0; v < max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks.length * step).toPrecision(12)));
  return ticks;
}

interface Series {
  key: string;
  name: string;
  totalJ: number;
}

type Row = { day: string; totalJ: number } & Record<string, number | string>;

/**
 * Rows for the chart: one per day of the window (days without replies are zero), one numeric field per
 * series in the display unit; series keys are `m0`, `m1`… (model names may hold dots, which recharts
 * would read as paths).
 */
export function dailyRows(days: DailyEnergy[], window: string[]): { rows: Row[]; series: Series[]; divisor: number; unit: 'J' | 'kJ' } {
  const byModel = new Map<string, number>();
  for (const day of days) for (const m of day.models) byModel.set(m.modelName, (byModel.get(m.modelName) ?? 0) + m.energyJ);
  const ranked = [...byModel.entries()].sort((a, b) => b[1] - a[1]);
  const shown = ranked.length > MAX_SERIES ? ranked.slice(0, MAX_SERIES - 1) : ranked;
  const series: Series[] = shown.map(([name, totalJ], i) => ({ key: `m${i}`, name, totalJ }));
  const keyOf = new Map(series.map((s) => [s.name, s.key]));
  if (ranked.length > shown.length) {
    series.push({ key: 'other', name: 'Other models', totalJ: ranked.slice(shown.length).reduce((sum, [, j]) => sum + j, 0) });
  }
  const byDay = new Map(days.map((d) => [d.day, d]));
  let max = 0;
  const raw = window.map((day) => {
    const row: Record<string, number> = {};
    let total = 0;
    for (const m of byDay.get(day)?.models ?? []) {
      const key = keyOf.get(m.modelName) ?? 'other';
      row[key] = (row[key] ?? 0) + m.energyJ;
      total += m.energyJ;
    }
    max = Math.max(max, total);
    return { day, totalJ: total, values: row };
  });
  const unit = max >= 1000 ? 'kJ' : 'J';
  const divisor = unit === 'kJ' ? 1000 : 1;
  const rows = raw.map(({ day, totalJ, values }) => {
    const row: Row = { day, totalJ };
    for (const s of series) row[s.key] = (values[s.key] ?? 0) / divisor;
    return row;
  });
  return { rows, series, divisor, unit };
}

function DailyTooltip({ active, payload, label, series, divisor }: TooltipContentProps<number, string> & { series: Series[]; divisor: number }) {
  if (!active || !payload?.length || typeof label !== 'string') return null;
  const row = payload[0]?.payload as Row | undefined;
  if (!row) return null;
  const items = series.map((s, i) => ({ s, i, energyJ: Number(row[s.key] ?? 0) * divisor })).filter((x) => x.energyJ > 0);
  return (
    <div className="chart-tooltip">
      <div className="chart-tooltip__title">{dayLabel(label, true)}</div>
      {items.length === 0 ? (
        <div className="chart-tooltip__muted">No replies</div>
      ) : (
        items.map(({ s, i, energyJ }) => (
          <div key={s.key} className="chart-tooltip__row">
            <span className={`swatch swatch--${s.key === 'other' ? 'other' : i + 1}`} />
            <span className="chart-tooltip__name">{s.name}</span>
            <span className="chart-tooltip__value">{formatEnergyJ(energyJ)}</span>
          </div>
        ))
      )}
      {items.length > 1 && (
        <div className="chart-tooltip__row chart-tooltip__total">
          <span className="chart-tooltip__name">Total</span>
          <span className="chart-tooltip__value">{formatEnergyJ(row.totalJ)}</span>
        </div>
      )}
    </div>
  );
}

/** Energy per day, stacked by model, over the last `window` days (recharts bar chart). */
export function DailyChart({ days, window, measured }: { days: DailyEnergy[]; window: string[]; measured: boolean }) {
  const { rows, series, divisor, unit } = dailyRows(days, window);
  const yTicks = niceTicks(rows.reduce((m, r) => Math.max(m, r.totalJ / divisor), 0));
  const total = rows.reduce((sum, r) => sum + r.totalJ, 0);
  const active = rows.filter((r) => r.totalJ > 0).length;
  const summary = `Energy per day over the last ${window.length} days: ${measured ? '' : 'about '}${formatEnergyJ(total)} in all, on ${active} ${active === 1 ? 'day' : 'days'}.`;
  return (
    <div className="daily-chart" data-testid="daily-chart" data-series={series.length} role="figure" aria-label={summary}>
      {series.length > 0 && (
        <ul className="chart-legend" aria-label="Models">
          {series.map((s, i) => (
            <li key={s.key}>
              <span className={`swatch swatch--${s.key === 'other' ? 'other' : i + 1}`} aria-hidden="true" />
              {s.name}
              <span className="chart-legend__value">{formatEnergyJ(s.totalJ)}</span>
            </li>
          ))}
        </ul>
      )}
      <div className="daily-chart__plot">
        <ResponsiveContainer width="100%" height={220}>
          <BarChart data={rows} margin={{ top: 8, right: 8, bottom: 0, left: 0 }} barCategoryGap="22%">
            <CartesianGrid vertical={false} className="chart-grid" />
            <XAxis
              dataKey="day"
              tickFormatter={(d: string) => dayLabel(d)}
              ticks={window.filter((_, i) => (window.length - 1 - i) % 7 === 0)}
              interval={0}
              tickLine={false}
              axisLine={false}
              className="chart-axis"
            />
            <YAxis
              width={56}
              ticks={yTicks}
              domain={[0, yTicks[yTicks.length - 1] ?? 1]}
              tickFormatter={(v: number) => `${formatSignificant(v, 3, true)} ${unit}`}
              tickLine={false}
              axisLine={false}
              allowDecimals
              className="chart-axis"
            />
            <Tooltip
              cursor={{ className: 'chart-cursor' }}
              isAnimationActive={false}
              content={(props) => <DailyTooltip {...(props as TooltipContentProps<number, string>)} series={series} divisor={divisor} />}
            />
            {series.map((s, i) => (
              <Bar
                key={s.key}
                dataKey={s.key}
                name={s.name}
                stackId="energy"
                className={`chart-bar chart-bar--${s.key === 'other' ? 'other' : i + 1}`}
                fill={`var(--chart-${s.key === 'other' ? 'other' : i + 1})`}
                isAnimationActive={false}
                maxBarSize={28}
              />
            ))}
          </BarChart>
        </ResponsiveContainer>
      </div>
    </div>
  );
}
