import type { GovernorDecision } from '@shared/contract';
import { formatBytes, formatJPerToken, formatParams, formatPowerW, formatRate } from '../../lib/format';
import { roughDuration } from '../../lib/calibration';
import { energyApprox, powerHint, profileName, variantLabel } from '../../lib/governor';
import { useAppState, useAppStore } from '../../state/context';
import { calibrationRunning, pinnedModelPath, sensorMeasured } from '../../state/store';
import { IconCheck, IconPin } from '../Icons';
import { QuantBadge } from '../ModelPicker';
import { CostSourceMark, QualityValue } from './marks';

/** The per-row "Calibrate" action: the button, or where the variant stands in the run going on. */
function CalibrateCell({ modelPath, label }: { modelPath: string; label: string }) {
  const store = useAppStore();
  const running = useAppState(calibrationRunning);
  const quick = useAppState((s) => s.calibration.quick);
  const inRun = useAppState((s) => (s.calibration.run?.state === 'running' ? s.calibration.run.variants.find((v) => v.modelPath === modelPath) : undefined));
  const estimateMs = useAppState((s) => s.calibration.estimate?.variants.find((v) => v.modelPath === modelPath)?.estimatedMs);
  if (inRun && (inRun.state === 'running' || inRun.state === 'pending')) {
    return (
      <span className="gov-table__calibrating" data-testid="calibrate-model-state" data-state={inRun.state}>
        {inRun.state === 'running' ? `Calibrating ${Math.round(inRun.fraction * 100)}%` : 'In the queue'}
      </span>
    );
  }
  const how = `${quick ? 'quick' : 'full'} run${estimateMs === undefined ? '' : `, ${roughDuration(estimateMs)}`}`;
  return (
    <button
      type="button"
      className="button button--ghost button--small gov-table__calibrate"
      data-testid="calibrate-model"
      data-model-path={modelPath}
      disabled={running}
      aria-label={`Calibrate ${label} (${how})`}
      title={running ? 'A calibration is running' : `Measure ${label}’s quality, speed, energy and memory on this computer (${how})`}
      onClick={() => void store.startCalibration([modelPath])}
    >
      Calibrate
    </button>
  );
}

/** Every candidate the governor compared, best first; the chosen row highlighted; each can be calibrated. */
export function CandidateTable({ decision }: { decision: GovernorDecision }) {
  const pinned = useAppState(pinnedModelPath);
  const sensor = useAppState(sensorMeasured);
  const rows = [...decision.candidates].sort((a, b) => a.rank - b.rank);
  return (
    <section className="card card--flush" aria-labelledby="gov-table-title">
      <header className="card__header">
        <div className="card__titles">
          <h2 className="card__title" id="gov-table-title">
            Candidates
          </h2>
          <p className="card__subtitle">
            {rows.length} {rows.length === 1 ? 'variant' : 'variants'} ranked for {profileName(decision.profile)} {powerHint(decision.onAc, decision.batteryPercent)} · figures
            predicted until a model is measured here
          </p>
        </div>
      </header>
      {rows.length === 0 ? (
        <p className="gov-empty">No usable model in the models folder.</p>
      ) : (
        <div className="table-scroll gov-table-scroll">
          <table className="energy-table gov-table">
            <thead>
              <tr>
                <th scope="col" className="is-numeric">
                  #
                </th>
                <th scope="col">Variant</th>
                <th scope="col" className="is-numeric">
                  Size
                </th>
                <th scope="col">Quant</th>
                <th scope="col" className="is-numeric">
                  Speed
                </th>
                <th scope="col" className="is-numeric">
                  Power
                </th>
                <th scope="col" className="is-numeric">
                  J/token
                </th>
                <th scope="col">Quality</th>
                <th scope="col">Fits</th>
                <th scope="col">Why not chosen</th>
                <th scope="col">
                  <span className="visually-hidden">Calibration</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((c) => {
                const params = formatParams(c.parameterCount);
                return (
                  <tr
                    key={c.modelPath}
                    className={c.chosen ? 'is-chosen' : c.feasible ? undefined : 'is-infeasible'}
                    data-testid="governor-row"
                    data-model-path={c.modelPath}
                    data-chosen={c.chosen ? 'true' : 'false'}
                    data-feasible={c.feasible ? 'true' : 'false'}
                    data-quality-source={c.qualitySource}
                    aria-current={c.chosen ? 'true' : undefined}
                  >
                    <td className="is-numeric gov-table__rank">{c.rank}</td>
                    <td className="gov-table__variant" title={c.modelPath}>
                      <span className="gov-table__name">{c.name}</span>
                      {pinned === c.modelPath && (
                        <span className="gov-pin-tag" title="Pinned in the open chat">
                          <IconPin size={11} />
                          pinned
                        </span>
                      )}
                    </td>
                    <td className="is-numeric" title={params ? `${params} weights` : undefined}>
                      {formatBytes(c.sizeBytes)}
                    </td>
                    <td>
                      <QuantBadge quantization={c.quantization} />
                    </td>
                    <td className="is-numeric">
                      <span className="gov-table__speed">
                        {formatRate(c.predicted.decodeTokensPerSecond)}
                        <CostSourceMark source={c.predicted.source} />
                      </span>
                    </td>
                    <td className="is-numeric">{formatPowerW(c.predicted.powerW)}</td>
                    <td className="is-numeric">
                      {energyApprox(c.predicted.source, sensor)}
                      {formatJPerToken(c.predicted.energyJPerToken).replace(/ J\/token$/, '')}
                    </td>
                    <td className="gov-table__quality">
                      <QualityValue candidate={c} />
                    </td>
                    <td className={`gov-table__fits${c.fits ? '' : ' is-no'}`} title={c.memoryReason ?? undefined}>
                      {c.fits ? 'Yes' : 'No'}
                      {c.memoryReason && <span className="gov-table__memory">{c.memoryReason}</span>}
                    </td>
                    <td className="gov-table__why">
                      {c.chosen ? (
                        <span className="gov-chosen-tag">
                          <IconCheck size={11} />
                          chosen
                        </span>
                      ) : (
                        (c.whyNot ?? '—')
                      )}
                    </td>
                    <td className="gov-table__action">
                      <CalibrateCell modelPath={c.modelPath} label={variantLabel(c)} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
