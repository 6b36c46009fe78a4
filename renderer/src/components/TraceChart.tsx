import { useId, useState } from 'react';
import { Area, AreaChart, CartesianGrid, ReferenceArea, ResponsiveContainer, Tooltip, XAxis, YAxis, type TooltipContentProps } from 'recharts';
import type { EnergyTrace } from '@shared/contract';
import { formatEnergyJ, formatPowerW, formatSignificant } from '../lib/format';

/** A gap longer than this between two stored samples breaks the line (the app was idle or closed), ms. */
const GAP_MS = 30_000;

type Point = { at: number; powerW: number | null };

/**
 * The samples as chart points, oldest first, with a `null` point inside every gap longer than
 * {@link GAP_MS} so the line does not bridge hours without data.
 */
export function tracePoints(samples: EnergyTrace['samples']): Point[] {
  const sorted = [...samples].sort((a, b) => a.at - b.at);
  const points: Point[] = [];
  let previous: number | null = null;
  for (const s of sorted) {
    if (previous !== null && s.at - previous > GAP_MS) points.push({ at: previous + 1, powerW: null });
    points.push({ at: s.at, powerW: s.powerW });
    previous = s.at;
  }
  return points;
}

function timeLabel(at: number, spanMs: number, multiDay: boolean): string {
  const d = new Date(at);
  const time = d.toLocaleTimeString(undefined, spanMs < 10 * 60_000 ? { hour: '2-digit', minute: '2-digit', second: '2-digit' } : { hour: '2-digit', minute: '2-digit' });
  return multiDay ? `${d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' })} ${time}` : time;
}

function TraceTooltip({ active, payload, measured }: TooltipContentProps<number, string> & { measured: boolean }) {
  if (!active || !payload?.length) return null;
  const point = payload[0]?.payload as Point | undefined;
  if (!point || point.powerW === null) return null;
  return (
    <div className="chart-tooltip">
      <div className="chart-tooltip__title">{new Date(point.at).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })}</div>
      <div className="chart-tooltip__row">
        <span className="chart-tooltip__name">Power</span>
        <span className="chart-tooltip__value">
          {measured ? '' : '≈ '}
          {formatPowerW(point.powerW)}
        </span>
      </div>
    </div>
  );
}

/**
 * A conversation's stored power over time (recharts area chart), with the replies' windows shaded.
 * "All replies" shows the whole trace; choosing one reply zooms to its window.
 */
export function TraceChart({ trace, measured }: { trace: EnergyTrace; measured: boolean }) {
  const gradient = `trace${useId().replace(/[^a-zA-Z0-9_-]/g, '')}`;
  const selectId = useId();
  const [zoom, setZoom] = useState<string>('all');
  const points = tracePoints(trace.samples);
  const replies = [...trace.replies].sort((a, b) => a.startedAt - b.startedAt);
  const zoomed = replies.find((r) => r.messageId === zoom) ?? null;

  const first = Math.min(points[0]?.at ?? Infinity, replies[0]?.startedAt ?? Infinity);
  const last = Math.max(points[points.length - 1]?.at ?? -Infinity, replies[replies.length - 1]?.endedAt ?? -Infinity);
  // A little room on both sides, so a reply does not hug the axes (at least 1 s: short replies are common).
  const allPad = Number.isFinite(first) && Number.isFinite(last) ? Math.max(1000, (last - first) * 0.03) : 0;
  let domain: [number, number] = Number.isFinite(first) && Number.isFinite(last) ? [first - allPad, last + allPad] : [0, 1];
  if (zoomed) {
    const pad = Math.max(3000, (zoomed.endedAt - zoomed.startedAt) * 0.25);
    domain = [zoomed.startedAt - pad, zoomed.endedAt + pad];
  }
  const span = domain[1] - domain[0];
  const multiDay = new Date(domain[0]).toDateString() !== new Date(domain[1]).toDateString();
  const visible = zoomed ? points.filter((p) => p.at >= domain[0] - GAP_MS && p.at <= domain[1] + GAP_MS) : points;
  // A reply of a fraction of a second would be invisible at the scale of an hour: give it a minimum width.
  const minWidth = span / 160;
  const peak = points.reduce((m, p) => Math.max(m, p.powerW ?? 0), 0);
  const label = `Power trace of this conversation: ${points.filter((p) => p.powerW !== null).length} samples, peak ${measured ? '' : 'about '}${formatPowerW(peak)}, ${replies.length} ${replies.length === 1 ? 'reply' : 'replies'} shaded.`;

  return (
    <div className="trace-chart" data-testid="trace-chart" data-samples={trace.samples.length} data-replies={replies.length} role="figure" aria-label={label}>
      <div className="trace-chart__bar">
        <span className="trace-chart__legend">
          <span className="swatch swatch--line" aria-hidden="true" /> {measured ? 'Power' : '≈ Power (estimated)'}
          <span className="swatch swatch--reply" aria-hidden="true" /> Reply being written
          <span className="trace-chart__count">
            {trace.samples.length} {trace.samples.length === 1 ? 'sample' : 'samples'}
          </span>
        </span>
        {replies.length > 1 && (
          <label className="trace-chart__zoom" htmlFor={selectId}>
            <span className="visually-hidden">Show</span>
            <select id={selectId} className="input select input--compact" value={zoomed ? zoom : 'all'} onChange={(e) => setZoom(e.target.value)}>
              <option value="all">All {replies.length} replies</option>
              {replies.map((r, i) => (
                <option key={r.messageId} value={r.messageId}>
                  Reply {i + 1} · {new Date(r.startedAt).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })} · {formatEnergyJ(r.energyJ)}
                </option>
              ))}
            </select>
          </label>
        )}
      </div>
      <div className="trace-chart__plot">
        <ResponsiveContainer width="100%" height={220}>
          <AreaChart data={visible} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
            <defs>
              <linearGradient id={gradient} x1="0" x2="0" y1="0" y2="1">
                <stop offset="0%" className="trace-chart__stop-top" />
                <stop offset="100%" className="trace-chart__stop-bottom" />
              </linearGradient>
            </defs>
            <CartesianGrid vertical={false} className="chart-grid" />
            <XAxis
              dataKey="at"
              type="number"
              scale="time"
              domain={domain}
              allowDataOverflow
              tickFormatter={(at: number) => timeLabel(at, span, multiDay)}
              tickLine={false}
              axisLine={false}
              minTickGap={40}
              className="chart-axis"
            />
            <YAxis width={52} tickFormatter={(v: number) => `${formatSignificant(v, 3, true)} W`} tickLine={false} axisLine={false} className="chart-axis" domain={[0, 'auto']} />
            {replies.map((r) => {
              const width = Math.max(r.endedAt - r.startedAt, minWidth);
              const mid = (r.startedAt + r.endedAt) / 2;
              return (
                <ReferenceArea
                  key={r.messageId}
                  x1={mid - width / 2}
                  x2={mid + width / 2}
                  ifOverflow="hidden"
                  className="trace-chart__reply"
                  fill="var(--accent-soft)"
                  fillOpacity={1}
                />
              );
            })}
            <Tooltip cursor={{ className: 'chart-cursor-line' }} isAnimationActive={false} content={(props) => <TraceTooltip {...(props as TooltipContentProps<number, string>)} measured={measured} />} />
            <Area
              type="linear"
              dataKey="powerW"
              className="trace-chart__area"
              stroke="var(--accent)"
              strokeWidth={1.6}
              fill={`url(#${gradient})`}
              connectNulls={false}
              isAnimationActive={false}
              dot={points.length < 12 ? { r: 4, strokeWidth: 1.5, className: 'trace-chart__dot' } : false}
              activeDot={{ r: 3 }}
            />
          </AreaChart>
        </ResponsiveContainer>
      </div>
    </div>
  );
}
