import { CartesianGrid, ResponsiveContainer, Scatter, ScatterChart, Tooltip, XAxis, YAxis, type TooltipContentProps } from 'recharts';
import type { GovernorCandidate } from '@shared/contract';
import { describeQuality } from '@shared/qualityScale';
import { formatJPerToken, formatPowerW, formatRate, formatSignificant } from '../lib/format';
import { measuredHere, paretoFront, qualityAxis, qualitySourceText } from '../lib/calibration';
import { energyApprox, formatQuality, variantLabel } from '../lib/governor';

/** One candidate as a chart point: x = J/token (log axis), y = quality 0..1; `measured` when both come from measurements here. */
interface Point {
  x: number;
  y: number;
  candidate: GovernorCandidate;
  measured: boolean;
}

/** 1, 2 and 5 × 10ⁿ: the round steps of a log axis. */
const LOG_STEPS = [1, 2, 5];

/**
 * The log axis' domain and ticks for J/token values: the data's range widened by a factor of 1.6 on both
 * sides (a point never sits on the frame), with ticks at the 1, 2 and 5 × 10ⁿ inside it — only the
 * decades when that makes more than 8 ticks. Values ≤ 0 or not finite are left out; with none left the
 * axis is 0.001…1 J/token.
 */
export function logAxis(values: number[]): { domain: [number, number]; ticks: number[] } {
  const positive = values.filter((v) => Number.isFinite(v) && v > 0);
  if (positive.length === 0) return { domain: [1e-3, 1], ticks: [1e-3, 1e-2, 1e-1, 1] };
  const lo = Math.min(...positive) / 1.6;
  const hi = Math.max(...positive) * 1.6;
  const all: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const step of LOG_STEPS) {
      const v = Number((step * 10 ** e).toPrecision(6));
      if (v >= lo && v <= hi) all.push(v);
    }
  }
  const decades = all.filter((v) => Number.isInteger(Math.log10(v)) || Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9);
  const ticks = all.length > 8 && decades.length >= 2 ? decades : all;
  return { domain: [lo, hi], ticks };
}

/** A quality axis tick: "0.25", "0.004", "5×10⁻⁸". */
function qualityTick(v: number): string {
  return v === 0 || v >= 0.001 ? formatSignificant(v, 2, true) : formatQuality(v);
}

function ChartTooltip({ active, payload, sensorMeasured }: TooltipContentProps<number, string> & { sensorMeasured: boolean }) {
  if (!active || !payload?.length) return null;
  const point = payload[0]?.payload as Point | undefined;
  if (!point?.candidate) return null;
  const c = point.candidate;
  const rows: [string, string][] = [
    ['Energy', `${energyApprox(c.predicted.source, sensorMeasured)}${formatJPerToken(c.predicted.energyJPerToken)} (${c.predicted.source === 'measured' ? 'measured' : 'predicted'})`],
    ['Quality', `${formatQuality(c.quality)} (${qualitySourceText(c.qualitySource)})`],
    ['Speed', formatRate(c.predicted.decodeTokensPerSecond)],
    ['Power', formatPowerW(c.predicted.powerW)],
  ];
  return (
    <div className="chart-tooltip gov-tooltip">
      <div className="chart-tooltip__title">{variantLabel(c)}</div>
      {rows.map(([name, value]) => (
        <div key={name} className="chart-tooltip__row">
          <span className="chart-tooltip__name">{name}</span>
          <span className="chart-tooltip__value">{value}</span>
        </div>
      ))}
      <div className="chart-tooltip__muted gov-tooltip__why">{describeQuality(c.quality)}</div>
      <div className="chart-tooltip__muted gov-tooltip__why">{c.chosen ? 'Chosen' : (c.whyNot ?? (c.feasible ? 'Feasible' : 'Not feasible'))}</div>
    </div>
  );
}

/** A short horizontal-then-vertical step, the Pareto front's mark in the legend. */
function StepSwatch() {
  return (
    <svg className="gov-swatch-step" width="18" height="12" viewBox="0 0 18 12" aria-hidden="true" focusable="false">
      <path d="M1 10.5 H9 V2 H17" />
    </svg>
  );
}

/**
 * The candidates' energy against their quality (recharts scatter chart): x = J/token on a log scale, y =
 * quality (zoomed on the candidates when they sit close together). The chosen variant is highlighted and
 * labelled; variants that break a limit are faded. Points measured here (quality by the calibration bench,
 * speed and energy by runs here) are filled, predicted ones hollow. The Pareto front — the variants no
 * other that fits in memory beats on both less energy and more quality — is drawn as a step line.
 * `sensorMeasured`: whether the telemetry reads a power sensor (else every J/token is marked ≈).
 * Every point is an SVG circle with class `gov-point`, `data-model-path`, `data-measured` and `data-pareto`.
 */
export function GovernorChart({ candidates, sensorMeasured }: { candidates: GovernorCandidate[]; sensorMeasured: boolean }) {
  const axis = logAxis(candidates.map((c) => c.predicted.energyJPerToken));
  const yAxis = qualityAxis(candidates.map((c) => c.quality));
  const [lo, hi] = axis.domain;
  const toPoint = (c: GovernorCandidate): Point => ({ x: Math.min(hi, Math.max(lo, c.predicted.energyJPerToken || lo)), y: c.quality, candidate: c, measured: measuredHere(c) });
  const all = candidates.map(toPoint);
  const chosen = all.filter((p) => p.candidate.chosen);
  const feasible = all.filter((p) => !p.candidate.chosen && p.candidate.feasible);
  const infeasible = all.filter((p) => !p.candidate.chosen && !p.candidate.feasible);
  // Only variants that can run here (fit in memory) are options on the front.
  const front = paretoFront(all.filter((p) => p.candidate.fits));
  const onFront = new Set(front.map((p) => p.candidate.modelPath));
  const measuredCount = all.filter((p) => p.measured).length;
  const pick = candidates.find((c) => c.chosen);
  const summary = `Energy per token against quality for ${candidates.length} ${candidates.length === 1 ? 'variant' : 'variants'}${
    pick ? `; chosen: ${variantLabel(pick)} at ${formatJPerToken(pick.predicted.energyJPerToken)}, quality ${formatQuality(pick.quality)}` : ''
  }; ${infeasible.length} break a limit; ${measuredCount} measured here, ${candidates.length - measuredCount} predicted${
    front.length ? `; Pareto front: ${front.map((p) => variantLabel(p.candidate)).join(', ')}` : ''
  }.`;
  // Where a point sits across the plot, 0..1 (the label goes left of points near the right edge).
  const across = (x: number) => (Math.log10(x) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo));

  const point = (kind: 'chosen' | 'feasible' | 'infeasible') =>
    function GovPoint(props: unknown) {
      const { cx, cy, payload } = props as { cx?: number; cy?: number; payload?: Point };
      if (cx === undefined || cy === undefined || !payload) return <g />;
      const c = payload.candidate;
      const common = {
        'data-model-path': c.modelPath,
        'data-measured': payload.measured ? 'true' : 'false',
        'data-pareto': onFront.has(c.modelPath) ? 'true' : 'false',
      };
      const fill = payload.measured ? 'is-measured' : 'is-predicted';
      if (kind !== 'chosen') {
        return <circle cx={cx} cy={cy} r={5} className={`gov-point gov-point--${kind} ${fill}`} data-chosen="false" {...common} />;
      }
      const right = across(payload.x) > 0.62;
      return (
        <g className="gov-point-group">
          <circle cx={cx} cy={cy} r={11} className="gov-point__halo" />
          <circle cx={cx} cy={cy} r={6.5} className={`gov-point gov-point--chosen ${fill}`} data-chosen="true" {...common} />
          <text x={right ? cx - 14 : cx + 14} y={cy - 10} textAnchor={right ? 'end' : 'start'} className="gov-point__label">
            {variantLabel(c)}
          </text>
        </g>
      );
    };

  return (
    <div
      className="governor-chart"
      data-testid="governor-chart"
      data-points={candidates.length}
      data-measured-points={measuredCount}
      data-pareto={front.length}
      role="figure"
      aria-label={summary}
    >
      <ul className="chart-legend gov-legend" aria-label="Legend">
        <li>
          <span className="gov-swatch gov-swatch--chosen" aria-hidden="true" /> Chosen
        </li>
        <li>
          <span className="gov-swatch gov-swatch--feasible" aria-hidden="true" /> Meets the limits
        </li>
        <li>
          <span className="gov-swatch gov-swatch--infeasible" aria-hidden="true" /> Breaks a limit
        </li>
        <li className="gov-legend__sep" aria-hidden="true" />
        <li>
          <span className="gov-swatch gov-swatch--measured" aria-hidden="true" /> Measured here
        </li>
        <li>
          <span className="gov-swatch gov-swatch--predicted" aria-hidden="true" /> Predicted
        </li>
        <li>
          <StepSwatch /> Pareto front (least energy for its quality)
        </li>
      </ul>
      <div className="governor-chart__plot">
        <span className="governor-chart__y-title" aria-hidden="true">
          Quality
        </span>
        <ResponsiveContainer width="100%" height={260}>
          <ScatterChart margin={{ top: 22, right: 20, bottom: 4, left: 0 }}>
            <CartesianGrid className="chart-grid" />
            <XAxis
              type="number"
              dataKey="x"
              name="Energy per token"
              scale="log"
              domain={axis.domain}
              ticks={axis.ticks}
              allowDataOverflow
              tickFormatter={(v: number) => formatSignificant(v, 1, true)}
              tickLine={false}
              axisLine={false}
              className="chart-axis"
            />
            <YAxis
              type="number"
              dataKey="y"
              name="Quality"
              domain={yAxis.domain}
              ticks={yAxis.ticks}
              allowDataOverflow
              tickFormatter={qualityTick}
              width={52}
              tickLine={false}
              axisLine={false}
              className="chart-axis"
            />
            <Tooltip cursor={false} isAnimationActive={false} content={(props) => <ChartTooltip {...(props as TooltipContentProps<number, string>)} sensorMeasured={sensorMeasured} />} />
            {front.length > 1 && (
              <Scatter
                name="Pareto front"
                data={front}
                line={{ className: 'gov-pareto' }}
                lineType="joint"
                lineJointType="stepAfter"
                shape={() => <g />}
                isAnimationActive={false}
                tooltipType="none"
                legendType="none"
              />
            )}
            <Scatter name="Breaks a limit" data={infeasible} shape={point('infeasible')} isAnimationActive={false} />
            <Scatter name="Meets the limits" data={feasible} shape={point('feasible')} isAnimationActive={false} />
            <Scatter name="Chosen" data={chosen} shape={point('chosen')} isAnimationActive={false} />
          </ScatterChart>
        </ResponsiveContainer>
        <p className="governor-chart__x-title" aria-hidden="true">
          <span>← less energy</span>
          <span>J/token, log scale</span>
          <span>more energy →</span>
        </p>
      </div>
    </div>
  );
}
