import type { ReactNode } from 'react';
import type { GovernorDecision } from '@shared/contract';
import { describeQuality } from '@shared/qualityScale';
import { baseName, formatBytes, formatJPerToken, formatPowerW, formatRate } from '../../lib/format';
import { bandwidthSourceText, constraintName, energyApprox, formatQuality, powerHint, profileName } from '../../lib/governor';
import { qualitySourceMeaning } from '../../lib/calibration';
import { useAppState, useAppStore } from '../../state/context';
import { pinnedModelPath, sensorMeasured } from '../../state/store';
import { ProfileIcon, violationText } from '../GovernorBar';
import { IconAlert, IconGauge, IconPin } from '../Icons';
import { QuantBadge } from '../ModelPicker';
import { CostSourceMark, QualitySourceTag, Stat } from './marks';

/** The decision: profile, power state, what was chosen and why, and the limits in play. */
export function DecisionCard({
  decision,
  previewing,
  previewSelect,
  previewBanner,
}: {
  decision: GovernorDecision;
  previewing: boolean;
  previewSelect: ReactNode;
  previewBanner: ReactNode;
}) {
  const store = useAppStore();
  const pinned = useAppState(pinnedModelPath);
  const openChat = useAppState((s) => s.selectedId !== null);
  const pinnedName = useAppState((s) => (pinned ? (s.models?.find((m) => m.path === pinned)?.name ?? baseName(pinned)) : null));
  const sensor = useAppState(sensorMeasured);
  const chosen = decision.chosen;
  const warning = violationText(decision);
  const machine = decision.machine;
  return (
    <section className="card gov-now" aria-labelledby="gov-now-title" data-testid="governor-decision-card" data-profile={decision.profile} data-preview={previewing ? 'true' : 'false'}>
      <header className="card__header">
        <div className="card__titles">
          <h2 className="card__title" id="gov-now-title">
            {previewing ? 'Preview' : 'Decision now'}
          </h2>
          <p className="card__subtitle">
            {profileName(decision.profile)} profile · {powerHint(decision.onAc, decision.batteryPercent)} · decided{' '}
            {new Date(decision.decidedAt).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })}
          </p>
        </div>
        {previewSelect}
      </header>
      {previewBanner}
      {chosen ? (
        <div className="gov-choice">
          <span className="gov-choice__icon" aria-hidden="true">
            <ProfileIcon profile={decision.profile} size={20} />
          </span>
          <div className="gov-choice__text">
            <div className="gov-choice__line">
              <span className="gov-choice__name" data-testid="governor-view-chosen">
                {chosen.name}
              </span>
              <QuantBadge quantization={chosen.quantization} />
              <CostSourceMark source={chosen.predicted.source} />
            </div>
            <div className="gov-choice__file">
              {chosen.fileName} · {formatBytes(chosen.sizeBytes)} · {chosen.settings.threads} {chosen.settings.threads === 1 ? 'thread' : 'threads'}
              {chosen.settings.gpuLayers > 0 ? ` · ${chosen.settings.gpuLayers} GPU layers` : ' · CPU only'} · {chosen.settings.contextSize.toLocaleString('en-US')}-token context
            </div>
          </div>
        </div>
      ) : (
        <p className="gov-choice__none">No usable model is installed, so there is nothing to choose.</p>
      )}
      {chosen && (
        <div className="stats gov-stats">
          <Stat label="Speed" value={formatRate(chosen.predicted.decodeTokensPerSecond)} note={`prefill ${formatRate(chosen.predicted.prefillTokensPerSecond)}`} />
          <Stat label="Power above idle" value={formatPowerW(chosen.predicted.powerW)} note={decision.budgetW === null ? 'no power budget' : `budget ${formatPowerW(decision.budgetW)}`} />
          <Stat
            label="Energy per token"
            value={`${energyApprox(chosen.predicted.source, sensor)}${formatJPerToken(chosen.predicted.energyJPerToken)}`}
            note={chosen.predicted.source === 'measured' ? (sensor ? 'measured here' : 'from runs here, estimated power') : 'predicted'}
          />
          <Stat
            label="Quality"
            value={
              <span className="gov-stat__quality" data-testid="governor-chosen-quality">
                {formatQuality(chosen.quality)}
                <QualitySourceTag candidate={chosen} />
              </span>
            }
            note={describeQuality(chosen.quality)}
            noteTitle={`${describeQuality(chosen.quality)}. ${qualitySourceMeaning(chosen.qualitySource)}: ${chosen.qualityBasis}`}
          />
        </div>
      )}
      {warning && (
        <p className="gov-warning" role="note" data-testid="governor-violated">
          <IconAlert size={15} />
          {warning}
        </p>
      )}
      <p className="gov-reason" data-testid="governor-reason-full">
        {decision.reason}
      </p>
      <dl className="gov-facts gov-facts--inline">
        <div className="gov-facts__row">
          <dt>Power budget</dt>
          <dd>{decision.budgetW === null ? 'none' : `${formatPowerW(decision.budgetW)} above idle`}</dd>
        </div>
        <div className="gov-facts__row">
          <dt>Binding constraint</dt>
          <dd data-testid="governor-binding">{constraintName(decision.bindingConstraint)}</dd>
        </div>
        <div className="gov-facts__row">
          <dt>Machine</dt>
          <dd
            data-testid="governor-bandwidth"
            data-source={machine.bandwidthSource}
            title={
              machine.bandwidthSource === 'inferred'
                ? 'The roofline model behind predicted figures. Memory bandwidth inferred from the measured decode speed of large, memory-bound variants'
                : 'The roofline model behind predicted figures'
            }
          >
            {formatBytes(machine.bandwidthBytesPerSecond)}/s memory bandwidth ({bandwidthSourceText(machine.bandwidthSource)}) · {formatPowerW(machine.activePowerWPerCore)} per busy core
          </dd>
        </div>
      </dl>
      {openChat && pinned && !previewing && (
        <div className="gov-pinned-note">
          <IconPin size={14} />
          <span>
            The open chat is pinned to <strong>{pinnedName}</strong>: the governor is off for it.
          </span>
          <button type="button" className="button button--ghost button--small" onClick={() => void store.pinModel(null)}>
            <IconGauge size={13} />
            Use Auto
          </button>
        </div>
      )}
    </section>
  );
}
