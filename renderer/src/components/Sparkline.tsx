import { useId, useRef } from 'react';
import type { PowerSample } from '@shared/contract';
import { useElementWidth } from '../hooks/useElementWidth';
import { formatPowerW } from '../lib/format';
import { RECENT_WINDOW_MS } from '../state/store';

const HEIGHT = 54;
const TOP = 6;
/**
 * Shortest time span drawn, in ms: right after the app starts there are only a few seconds of samples,
 * which would be a sliver at the right edge of a 2-minute axis; they fill at least 30 s of it instead.
 */
const MIN_SPAN_MS = 30_000;

/** The time span the sparkline draws, in ms: the samples' span, between 30 s and {@link RECENT_WINDOW_MS}. */
export function sparklineSpanMs(samples: PowerSample[]): number {
  const first = samples[0];
  const last = samples[samples.length - 1];
  if (!first || !last) return RECENT_WINDOW_MS;
  return Math.min(RECENT_WINDOW_MS, Math.max(MIN_SPAN_MS, last.at - first.at));
}

/** A round upper bound for the sparkline's scale: 1, 2, 5 × 10ⁿ W, at least 1 W. */
export function niceCeilingW(powerW: number): number {
  if (!Number.isFinite(powerW) || powerW <= 1) return 1;
  const power = 10 ** Math.floor(Math.log10(powerW));
  for (const step of [1, 2, 2.5, 5, 10]) if (powerW <= step * power) return step * power;
  return 10 * power;
}

/**
 * The power of the last {@link RECENT_WINDOW_MS}, drawn as a small area chart in an inline SVG. The time
 * axis ends at the newest sample (not at the clock), so the shape holds still while no sample arrives;
 * the scale starts at 0 W so that a small change does not look large. Until two minutes of samples exist
 * the axis covers what there is (at least {@link MIN_SPAN_MS}).
 */
export function Sparkline({ samples, measured }: { samples: PowerSample[]; measured: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const width = useElementWidth(box);
  const gradientId = `spark${useId().replace(/[^a-zA-Z0-9_-]/g, '')}`;
  const newest = samples[samples.length - 1];
  const peak = samples.reduce((m, s) => Math.max(m, s.powerW), 0);
  const ceiling = niceCeilingW(peak * 1.1);
  const low = samples.reduce((m, s) => Math.min(m, s.powerW), Number.POSITIVE_INFINITY);
  const mark = measured ? '' : '≈ ';
  const spanMs = sparklineSpanMs(samples);
  const spanText = spanMs < 60_000 ? `${Math.round(spanMs / 1000)} s` : `${Math.round(spanMs / 60_000)} min`;
  const label = newest
    ? `Power over the last ${spanText}: now ${mark}${formatPowerW(newest.powerW)}, between ${mark}${formatPowerW(low)} and ${mark}${formatPowerW(peak)}`
    : 'Power: no samples yet';

  let line = '';
  let area = '';
  if (newest && width > 0) {
    const from = newest.at - spanMs;
    const x = (at: number) => Math.max(0, ((at - from) / spanMs) * width);
    const y = (powerW: number) => TOP + (1 - Math.min(powerW, ceiling) / ceiling) * (HEIGHT - TOP - 1);
    const points = samples.map((s) => `${x(s.at).toFixed(1)},${y(s.powerW).toFixed(1)}`);
    if (points.length === 1) {
      // One sample: a short level line at its height, so something is drawn.
      const only = samples[0]!;
      points.unshift(`${Math.max(0, x(only.at) - 6).toFixed(1)},${y(only.powerW).toFixed(1)}`);
    }
    line = `M${points.join('L')}`;
    const first = points[0]!.split(',')[0];
    const last = points[points.length - 1]!.split(',')[0];
    area = `${line}L${last},${HEIGHT}L${first},${HEIGHT}Z`;
  }

  return (
    <div className="sparkline" ref={box}>
      <svg
        className="sparkline__svg"
        data-testid="power-sparkline"
        data-samples={samples.length}
        width={width || '100%'}
        height={HEIGHT}
        role="img"
        aria-label={label}
      >
        <defs>
          <linearGradient id={gradientId} x1="0" x2="0" y1="0" y2="1">
            <stop offset="0%" className="sparkline__stop-top" />
            <stop offset="100%" className="sparkline__stop-bottom" />
          </linearGradient>
        </defs>
        <line className="sparkline__base" x1={0} x2={width} y1={HEIGHT - 0.5} y2={HEIGHT - 0.5} />
        {area && <path className="sparkline__area" d={area} fill={`url(#${gradientId})`} />}
        {line && <path className={`sparkline__line${measured ? '' : ' is-estimated'}`} d={line} />}
      </svg>
      {newest && (
        <span className="sparkline__ceiling" aria-hidden="true">
          {formatPowerW(ceiling).replace('.0 W', ' W')}
        </span>
      )}
      <div className="sparkline__scale" aria-hidden="true">
        <span>{spanText} ago</span>
        <span>now</span>
      </div>
    </div>
  );
}
