import { useState } from 'react';
import type { CalibrationResult, GovernorCandidate } from '@shared/contract';
import { describeQuality } from '@shared/qualityScale';
import { describeError } from '../../api/errors';
import { downloadText } from '../../lib/download';
import { formatBytes, formatInt, formatMs, formatPowerW, formatRate, formatSignificant, fullTime, relativeTime } from '../../lib/format';
import { formatQuality } from '../../lib/governor';
import { useNow } from '../../hooks/useNow';
import { useAppState, useAppStore } from '../../state/context';
import { IconDownload } from '../Icons';
import { QuantBadge } from '../ModelPicker';

/** "Export CSV": the results as the backend writes them (`calibration.exportCsv`), saved as a download. */
function ExportButton({ disabled }: { disabled: boolean }) {
  const store = useAppStore();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async () => {
    setBusy(true);
    setError(null);
    const result = await store.exportCalibrationCsv();
    setBusy(false);
    if (!result.ok) {
      setError(describeError(result.error));
      return;
    }
    downloadText(result.value.fileName, result.value.csv);
  };
  return (
    <div className="export">
      <button type="button" className="button button--ghost button--small" data-testid="calibration-export" disabled={disabled || busy} onClick={() => void run()}>
        <IconDownload size={14} />
        Export CSV
      </button>
      {error && (
        <p className="export__error" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

/** When a result was measured: "just now", "12 min ago", "3 h ago", then the sidebar's "Yesterday", "Tue", "12 Mar". */
function agoText(at: number, now: number): string {
  const minutes = Math.floor((now - at) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  const short = relativeTime(at, now);
  return /^\d+h$/.test(short) ? `${short.slice(0, -1)} h ago` : short;
}

/** "3%" slower at the end of the sustained run, "−2%" when it got faster, "0%". */
function slowdownText(slowdown: number): string {
  const pct = Math.round(slowdown * 100);
  return pct < 0 ? `−${Math.abs(pct)}%` : `${pct}%`;
}

/** One calibrated model file: quality, speed, energy and memory as measured here. */
function ResultRow({ r, candidate, now }: { r: CalibrationResult; candidate: GovernorCandidate | undefined; now: number }) {
  const energyTitle =
    r.energyJPerToken === null
      ? 'No power reading during the run'
      : `${r.energyMeasured ? 'Measured' : 'Estimated'} by ${r.energySource ?? 'the telemetry'}${r.avgPowerW === null ? '' : `, ${formatPowerW(r.avgPowerW)} above idle on average`}`;
  return (
    <tr data-testid="calibration-result" data-model-path={r.modelPath} data-bpb={r.bitsPerByte ?? ''} data-quick={r.quick ? 'true' : 'false'}>
      <th scope="row" className="cal-table__model" title={`${r.fileName}\n${r.modelPath}`}>
        <span className="cal-table__name">{r.modelName}</span>
        <QuantBadge quantization={r.quantization} />
        <span className="cal-table__sub">
          {formatBytes(r.sizeBytes)} · {r.threads} {r.threads === 1 ? 'thread' : 'threads'}
        </span>
      </th>
      <td className="cal-table__quality" title={r.bitsPerByte === null ? 'Bits per byte could not be measured' : `${formatInt(r.scoredTokens)} tokens (${formatInt(r.scoredBytes)} bytes) of held-out text scored at ${formatRate(r.bitsPerByteTokensPerSecond)}. Lower is better.`}>
        <span className="cal-table__bpb" data-testid="calibration-bpb">
          {r.bitsPerByte === null ? '—' : `${r.bitsPerByte.toFixed(3)} BPB`}
        </span>
        <span className="cal-table__sub">{candidate ? `${formatQuality(candidate.quality)} · ${describeQuality(candidate.quality)}` : r.bitsPerByte === null ? 'not measured' : 'bits per byte'}</span>
      </td>
      <td className="is-numeric">{formatMs(r.loadMs)}</td>
      <td className="is-numeric" title={`${formatInt(r.prefillTokens)}-token prompt`}>
        {formatRate(r.prefillTokensPerSecond)}
      </td>
      <td className="is-numeric" title={`${formatInt(r.decodeTokens)} tokens decoded over ${formatMs(r.sustainedDurationMs)}`}>
        {formatRate(r.decodeTokensPerSecond)}
      </td>
      <td className="is-numeric cal-table__energy" title={energyTitle}>
        {r.energyJPerToken === null ? (
          '—'
        ) : (
          <>
            <span>
              {r.energyMeasured ? '' : '≈ '}
              {formatSignificant(r.energyJPerToken, 2)}
            </span>
            <span className="cal-table__sub">{r.energyMeasured ? (r.energySource ?? 'measured') : 'estimated'}</span>
          </>
        )}
      </td>
      <td className="is-numeric" title={`${formatBytes(r.baselineRssBytes)} before the model was loaded; +${formatBytes(Math.max(0, r.peakRssBytes - r.baselineRssBytes))} during the run`}>
        {formatBytes(r.peakRssBytes)}
      </td>
      <td
        className="is-numeric"
        title={
          r.quick
            ? `A quick run decodes for ${formatMs(r.sustainedDurationMs)}: too short to show heat. Run a full calibration to measure the slowdown.`
            : `${formatRate(r.sustainedFirstQuarterTokensPerSecond)} in the first quarter of the sustained run, ${formatRate(r.sustainedLastQuarterTokensPerSecond)} in the last`
        }
      >
        {r.quick ? <span className="cal-table__sub">n/a (quick)</span> : slowdownText(r.sustainedSlowdown)}
      </td>
      <td className="cal-table__when">
        <span title={fullTime(r.measuredAt)}>{agoText(r.measuredAt, now)}</span>
        <span className={`tag ${r.quick ? 'tag--neutral' : 'tag--measured'}`} title={r.quick ? 'A quick run: a first look, less precise' : 'A full run'}>
          {r.quick ? 'quick' : 'full'}
        </span>
      </td>
    </tr>
  );
}

/**
 * What the calibration bench measured, one row per model file (MELT-style): quality as bits per byte and
 * in words, load time, prompt and decode speed, energy per token and its source, peak memory, the
 * slowdown over a sustained run, when and how it was measured; with "Export CSV".
 */
export function MeasurementsTable({ candidates }: { candidates: GovernorCandidate[] }) {
  const store = useAppStore();
  const results = useAppState((s) => s.calibration.results);
  const error = useAppState((s) => s.calibration.error);
  const now = useNow(30_000);
  const byPath = new Map(candidates.map((c) => [c.modelPath, c]));
  const rows = [...(results ?? [])].sort((a, b) => a.modelName.localeCompare(b.modelName) || b.sizeBytes - a.sizeBytes || a.modelPath.localeCompare(b.modelPath));
  return (
    <section className="card card--flush" aria-labelledby="cal-table-title" data-testid="calibration-results" data-count={rows.length}>
      <header className="card__header">
        <div className="card__titles">
          <h2 className="card__title" id="cal-table-title">
            Measurements
          </h2>
          <p className="card__subtitle">What the calibration measured on this computer. Lower bits per byte (BPB) is better; ≈ marks estimated energy.</p>
        </div>
        <ExportButton disabled={rows.length === 0} />
      </header>
      {error && results === null ? (
        <div className="banner banner--error energy-error cal-table__error" role="alert">
          <span>{describeError(error)}</span>
          <button type="button" className="button button--ghost button--small" onClick={() => void store.refreshCalibration()}>
            Try again
          </button>
        </div>
      ) : rows.length === 0 ? (
        <p className="gov-empty" data-testid="calibration-results-empty">
          {results === null ? 'Loading…' : 'No model calibrated yet. Calibrate them above to see their measured quality, speed and energy here.'}
        </p>
      ) : (
        <div className="table-scroll">
          <table className="energy-table cal-table">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Quality</th>
                <th scope="col" className="is-numeric">
                  Load
                </th>
                <th scope="col" className="is-numeric">
                  Prompt
                </th>
                <th scope="col" className="is-numeric">
                  Decode
                </th>
                <th scope="col" className="is-numeric">
                  J/token
                </th>
                <th scope="col" className="is-numeric">
                  Peak memory
                </th>
                <th scope="col" className="is-numeric" title="How much slower decoding got from the first to the last quarter of a sustained run (heat)">
                  Slowdown
                </th>
                <th scope="col">Measured</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <ResultRow key={`${r.fileKey}:${r.modelPath}`} r={r} candidate={byPath.get(r.modelPath)} now={now} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
