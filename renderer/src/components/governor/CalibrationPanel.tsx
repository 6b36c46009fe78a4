import { useId } from 'react';
import type { CalibrationStatus } from '@shared/contract';
import { describeError } from '../../api/errors';
import { clockDuration, modelCount, remainingMs, roughDuration, variantStateText, type CalibrationVariant } from '../../lib/calibration';
import { variantLabel } from '../../lib/governor';
import { useNow } from '../../hooks/useNow';
import { useAppState, useAppStore } from '../../state/context';
import { calibrationRunning } from '../../state/store';
import { IconAlert, IconCheck, IconClose, IconGauge } from '../Icons';
import { QuantBadge } from '../ModelPicker';
import { ProgressBar } from '../ProgressBar';

/** Elapsed and remaining time of the running run, ticking every second. */
function RunClock({ run }: { run: CalibrationStatus }) {
  const now = useNow(1000);
  const elapsed = Math.max(0, now - run.startedAt);
  const left = remainingMs(run, now);
  return (
    <span className="cal-clock" data-testid="calibration-clock">
      {clockDuration(elapsed)} elapsed · {run.waiting ? 'paused' : left < 1000 ? 'finishing' : `${roughDuration(left)} left`}
    </span>
  );
}

/** One variant of a run: its name, its step in words, its own progress bar, and its error if it failed. */
function VariantRow({ variant }: { variant: CalibrationVariant }) {
  const label = variantLabel(variant);
  const pct = Math.round(variant.fraction * 100);
  const state = variantStateText(variant);
  return (
    <li className={`cal-variant is-${variant.state}`} data-testid="calibration-variant" data-model-path={variant.modelPath} data-state={variant.state} data-phase={variant.phase ?? ''}>
      <div className="cal-variant__line">
        <span className="cal-variant__icon" aria-hidden="true">
          {variant.state === 'done' ? <IconCheck size={13} /> : variant.state === 'failed' ? <IconAlert size={13} /> : variant.state === 'cancelled' ? <IconClose size={13} /> : null}
        </span>
        <span className="cal-variant__name" title={variant.modelPath}>
          {variant.name}
        </span>
        <QuantBadge quantization={variant.quantization} />
        <span className="cal-variant__state" data-testid="calibration-variant-state">
          {state}
        </span>
        <span className="cal-variant__pct" aria-hidden="true">
          {variant.state === 'pending' ? roughDuration(variant.estimatedMs) : `${pct}%`}
        </span>
      </div>
      <ProgressBar
        fraction={variant.fraction}
        label={`${label}: calibration progress`}
        valueText={`${pct}%, ${state.toLowerCase()}`}
        testId="calibration-variant-progress"
        size="small"
        tone={variant.state === 'failed' ? 'failed' : variant.state === 'cancelled' || variant.state === 'pending' ? 'muted' : 'normal'}
      />
      {variant.state === 'failed' && variant.error && (
        <p className="cal-variant__error" data-testid="calibration-variant-error">
          {variant.error}
        </p>
      )}
    </li>
  );
}

/** How a run ended, in one sentence. */
function summary(run: CalibrationStatus): string {
  const done = run.variants.filter((v) => v.state === 'done').length;
  const failed = run.variants.filter((v) => v.state === 'failed').length;
  const total = run.variants.length;
  const took = run.endedAt !== null ? ` in ${clockDuration(run.endedAt - run.startedAt)}` : '';
  const failures = failed ? `; ${failed} failed` : '';
  switch (run.state) {
    case 'running':
      return `Calibrating ${modelCount(total)}`;
    case 'done':
      return failed ? `Calibrated ${done} of ${modelCount(total)}${took}${failures}.` : `Calibrated ${modelCount(total)}${took}.`;
    case 'cancelled':
      return `Cancelled: ${done} of ${modelCount(total)} calibrated in this run${failures}. Results measured before are kept.`;
    case 'failed':
      return `The calibration failed: ${done} of ${modelCount(total)} calibrated${failures}.`;
  }
}

/** The run going on: overall progress, time, Cancel, the wait for a reply, and every variant. */
function RunProgress({ run }: { run: CalibrationStatus }) {
  const store = useAppStore();
  const pct = Math.round(run.fraction * 100);
  const done = run.variants.filter((v) => v.state === 'done').length;
  return (
    <div className="cal-run" data-testid="calibration-run" data-run-id={run.runId}>
      <div className="cal-run__head">
        <div className="cal-run__titles">
          <span className="cal-run__title">
            Calibrating {modelCount(run.variants.length)}
            <span className="tag tag--neutral">{run.quick ? 'quick' : 'full'}</span>
          </span>
          <span className="cal-run__sub">
            {done} of {run.variants.length} done · <RunClock run={run} />
          </span>
        </div>
        <span className="cal-run__pct" aria-hidden="true">
          {pct}%
        </span>
        <button type="button" className="button button--ghost button--small" data-testid="calibration-cancel" onClick={() => void store.cancelCalibration()}>
          Cancel
        </button>
      </div>
      <ProgressBar fraction={run.fraction} label="Calibration progress, all models" valueText={`${pct}%, ${done} of ${modelCount(run.variants.length)} done`} testId="calibration-progress" />
      {run.waiting && (
        <p className="cal-waiting" role="status" data-testid="calibration-waiting">
          <span className="cal-waiting__dot" aria-hidden="true" />
          Paused: {run.waiting.replace(/^waiting/i, 'waiting')}. It goes on by itself.
        </p>
      )}
      <ol className="cal-variants" aria-label="Models in this run">
        {run.variants.map((v) => (
          <VariantRow key={v.modelPath} variant={v} />
        ))}
      </ol>
    </div>
  );
}

/** The last run of this session once it ended: one sentence, and the variants (open when some failed). */
function LastRun({ run }: { run: CalibrationStatus }) {
  const trouble = run.state !== 'done' || run.variants.some((v) => v.state === 'failed');
  return (
    <details className={`cal-last${trouble ? ' has-trouble' : ''}`} open={trouble} data-testid="calibration-last">
      <summary className="cal-last__summary" data-testid="calibration-summary">
        <span className="cal-last__icon" aria-hidden="true">
          {trouble ? <IconAlert size={14} /> : <IconCheck size={14} />}
        </span>
        {summary(run)}
        <span className="cal-last__when">
          {run.endedAt !== null && new Date(run.endedAt).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })}
        </span>
      </summary>
      <ol className="cal-variants" aria-label="Models in the last run">
        {run.variants.map((v) => (
          <VariantRow key={v.modelPath} variant={v} />
        ))}
      </ol>
    </details>
  );
}

/** "Calibrate all" with its estimate (and the Quick option) shown before anything starts. */
function StartControls() {
  const store = useAppStore();
  const quickId = useId();
  const { estimate, estimateError, quick, results, starting } = useAppState((s) => s.calibration);
  const running = useAppState(calibrationRunning);
  const count = estimate?.variants.length ?? 0;
  const measured = new Set((results ?? []).map((r) => r.modelPath));
  const missing = estimate ? estimate.variants.filter((v) => !measured.has(v.modelPath)).length : 0;
  let text: string;
  if (estimateError && !estimate) text = `The estimate failed: ${describeError(estimateError)}`;
  else if (!estimate) text = 'Estimating how long it takes…';
  else if (count === 0) text = 'No usable model to calibrate.';
  else text = `Calibrate all: ${roughDuration(estimate.totalMs)} for ${modelCount(count)}${quick ? ', quick' : ''}.`;
  return (
    <div className="cal-start">
      <div className="cal-start__text">
        <p className="cal-start__estimate" data-testid="calibration-estimate" data-total-ms={estimate?.totalMs ?? ''} data-models={estimate ? count : ''} aria-live="polite">
          {text}
        </p>
        {estimate && count > 0 && (
          <p className="cal-start__note">
            {missing === 0 ? 'Every model has been calibrated; running again measures them anew.' : `${missing} of ${count} not calibrated yet.`} The computer should be plugged in and
            otherwise idle; a reply you start pauses it.
          </p>
        )}
      </div>
      <label className="gov-check cal-start__quick" htmlFor={quickId} title="Shorter runs: a first look, less precise than a full calibration">
        <input id={quickId} type="checkbox" checked={quick} data-testid="calibration-quick" onChange={(e) => store.setCalibrationQuick(e.target.checked)} />
        Quick
      </label>
      <button
        type="button"
        className="button button--primary"
        data-testid="calibration-start"
        disabled={running || starting || count === 0}
        onClick={() => void store.startCalibration()}
      >
        <IconGauge size={14} />
        {starting ? 'Starting…' : 'Calibrate all'}
      </button>
    </div>
  );
}

/**
 * The calibration bench: measures each installed model's quality (bits per byte), speed, energy and
 * memory on this computer. Shows the estimate before starting, the run's progress while it goes (it lives
 * in the store, so it survives leaving the view) and how the last run ended.
 */
export function CalibrationPanel() {
  const store = useAppStore();
  const run = useAppState((s) => s.calibration.run);
  const actionError = useAppState((s) => s.calibration.actionError);
  const running = run?.state === 'running';
  return (
    <section className="card cal-panel" aria-labelledby="cal-title" data-testid="calibration-panel" data-state={run ? run.state : 'idle'}>
      <header className="card__header">
        <div className="card__titles">
          <h2 className="card__title" id="cal-title">
            Calibration
          </h2>
          <p className="card__subtitle">Measures each model’s quality, load time, prompt and decode speed, energy per token and memory on this computer.</p>
        </div>
      </header>
      {actionError && (
        <div className="banner banner--error cal-error" role="alert" data-testid="calibration-error">
          <span>{actionError.code === 'BUSY' ? 'A calibration is already running, or a reply is being written. Try again when it has finished.' : describeError(actionError)}</span>
          <button type="button" className="icon-button icon-button--small" aria-label="Dismiss" onClick={() => store.clearCalibrationError()}>
            <IconClose size={14} />
          </button>
        </div>
      )}
      {running ? <RunProgress run={run} /> : <StartControls />}
      {run && !running && <LastRun run={run} />}
      <p className="visually-hidden" role="status">
        {run && !running ? summary(run) : ''}
      </p>
    </section>
  );
}
