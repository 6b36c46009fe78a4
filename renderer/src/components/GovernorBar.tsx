import { useId, useRef, useState, type KeyboardEvent } from 'react';
import type { GovernorDecision, ProfileId } from '@shared/contract';
import { describeError } from '../api/errors';
import { baseName, formatJPerToken, formatPowerW, formatRate } from '../lib/format';
import { constraintName, energyApprox, powerHint, PROFILES, profileDescription, profileName, variantLabel } from '../lib/governor';
import { useAppState, useAppStore } from '../state/context';
import { onAcPower, pinnedModelPath, profileInEffect, sensorMeasured } from '../state/store';
import { IconAlert, IconChevronRight, IconGauge, IconLeaf, IconPin, IconRocket, IconScale, IconSliders } from './Icons';
import { QuantBadge } from './ModelPicker';
import { useDismiss } from '../hooks/useDismiss';

/** A profile's icon. */
export function ProfileIcon({ profile, size = 14 }: { profile: ProfileId; size?: number }) {
  switch (profile) {
    case 'performance':
      return <IconRocket size={size} />;
    case 'balanced':
      return <IconScale size={size} />;
    case 'saver':
      return <IconLeaf size={size} />;
    case 'custom':
      return <IconSliders size={size} />;
  }
}

/** The battery charge the governor last saw (the battery gauge before its first decision). */
function useBatteryPercent(): number | null {
  return useAppState((s) => s.governor?.batteryPercent ?? s.energy.battery?.percent ?? null);
}

/**
 * The profile switcher: Performance / Balanced / Saver / Custom for the power source in effect (the AC
 * profile on mains power, the battery profile on battery), with "on AC" / "on battery 41%". A choice is
 * shown at once and saved to `settings.governor`. Arrow keys move between the options.
 */
export function ProfileSwitcher() {
  const store = useAppStore();
  const governor = useAppState((s) => s.settings?.governor);
  const onAc = useAppState(onAcPower);
  const batteryPercent = useBatteryPercent();
  const selected = governor ? profileInEffect(governor, onAc) : null;
  const hint = powerHint(onAc, batteryPercent);
  const group = useRef<HTMLDivElement>(null);

  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key !== 'ArrowLeft' && e.key !== 'ArrowRight' && e.key !== 'Home' && e.key !== 'End') return;
    const buttons = [...(group.current?.querySelectorAll<HTMLButtonElement>('button[data-profile]') ?? [])];
    const index = buttons.findIndex((b) => b === document.activeElement);
    if (index < 0) return;
    e.preventDefault();
    const next = e.key === 'Home' ? 0 : e.key === 'End' ? buttons.length - 1 : (index + (e.key === 'ArrowRight' ? 1 : -1) + buttons.length) % buttons.length;
    buttons[next]?.focus();
  };

  return (
    <div className="profile-switch" data-testid="profile-switcher" data-on-ac={onAc ? 'true' : 'false'}>
      <div className="profile-switch__options" role="group" aria-label={`Power profile ${hint}`} ref={group} onKeyDown={onKey}>
        {PROFILES.map((profile) => {
          const isSelected = profile === selected;
          return (
            <button
              key={profile}
              type="button"
              className={`profile-switch__option${isSelected ? ' is-selected' : ''}`}
              data-testid="profile-option"
              data-profile={profile}
              data-selected={isSelected ? 'true' : 'false'}
              aria-pressed={isSelected}
              aria-label={profileName(profile)}
              title={`${profileName(profile)} ${hint}: ${profileDescription(profile)}`}
              disabled={!governor}
              onClick={() => void store.setProfile(profile)}
            >
              <ProfileIcon profile={profile} />
              <span className="profile-switch__label" aria-hidden="true">
                {profileName(profile)}
              </span>
            </button>
          );
        })}
      </div>
      <span className="profile-switch__power" data-testid="power-hint">
        {hint}
      </span>
    </div>
  );
}

/** The facts behind a decision, as label/value pairs (the decision popover and the Governor view). */
export function decisionFacts(decision: GovernorDecision): { label: string; value: string }[] {
  const facts = [
    { label: 'Profile', value: `${profileName(decision.profile)} ${powerHint(decision.onAc, decision.batteryPercent)}` },
    { label: 'Power budget', value: decision.budgetW === null ? 'none' : `${formatPowerW(decision.budgetW)} above idle` },
    { label: 'Binding constraint', value: constraintName(decision.bindingConstraint) },
  ];
  const chosen = decision.chosen;
  if (chosen) {
    const source = chosen.predicted.source === 'measured' ? 'measured here' : 'predicted';
    facts.push({
      label: 'Expected',
      value: `${formatRate(chosen.predicted.decodeTokensPerSecond)} · ${formatPowerW(chosen.predicted.powerW)} · ${formatJPerToken(chosen.predicted.energyJPerToken)} (${source})`,
    });
  }
  return facts;
}

/** "Nothing meets every limit: … breaks the speed floor and watt cap." or null. */
export function violationText(decision: GovernorDecision): string | null {
  if (decision.violated.length === 0 || !decision.chosen) return null;
  const names = decision.violated.map((c) => constraintName(c));
  const list = names.length > 1 ? `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}` : names[0];
  return `Nothing installed meets every limit: ${variantLabel(decision.chosen)} breaks the ${list}.`;
}

/**
 * The governor's current decision in one line under the chat header ("Saver → wattwise-ladder 8.1M
 * Q4_0 · 0.0041 J/token · reason"), the reason in full on hover and in a popover on click; or, for a
 * conversation with a pinned model, "Pinned: … — the governor is off for this chat" and "Use Auto".
 */
export function GovernorDecisionLine() {
  const store = useAppStore();
  const decision = useAppState((s) => s.governor);
  const error = useAppState((s) => s.governorError);
  const saving = useAppState((s) => s.governorSaving);
  const pinned = useAppState(pinnedModelPath);
  const pinnedModel = useAppState((s) => (pinned ? (s.models?.find((m) => m.path === pinned) ?? null) : null));
  const selectedProfile = useAppState((s) => (s.settings ? profileInEffect(s.settings.governor, onAcPower(s)) : null));
  const sensor = useAppState(sensorMeasured);
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const popoverId = useId();

  useDismiss(open, root, (reason) => {
    setOpen(false);
    if (reason === 'escape') root.current?.querySelector<HTMLButtonElement>('.gov-line__trigger')?.focus();
  });

  if (pinned) {
    const name = pinnedModel ? pinnedModel.name : baseName(pinned);
    return (
      <div className="gov-line is-pinned" data-testid="governor-decision" data-pinned="true" data-model-path={pinned}>
        <IconPin size={14} className="gov-line__icon" />
        <span className="gov-line__text" title={pinned}>
          Pinned: <strong>{name}</strong> {pinnedModel && <QuantBadge quantization={pinnedModel.quantization} />}
          <span className="gov-line__muted"> — the governor is off for this chat</span>
        </span>
        <button type="button" className="button button--ghost button--small gov-line__unpin" data-testid="unpin" onClick={() => void store.pinModel(null)}>
          <IconGauge size={13} />
          Use Auto
        </button>
      </div>
    );
  }

  if (!decision) {
    return (
      <div className="gov-line" data-testid="governor-decision" data-pinned="false">
        <IconGauge size={14} className="gov-line__icon" />
        <span className="gov-line__text gov-line__muted">{error ? `The governor did not answer: ${describeError(error)}` : 'Asking the power governor…'}</span>
      </div>
    );
  }

  const chosen = decision.chosen;
  // The switcher already shows the new profile while the decision for it is on its way.
  const stale = saving || (selectedProfile !== null && selectedProfile !== decision.profile);
  const warning = violationText(decision);
  return (
    <div
      className={`gov-line${stale ? ' is-stale' : ''}`}
      ref={root}
      data-testid="governor-decision"
      data-pinned="false"
      data-profile={decision.profile}
      data-model-path={chosen?.modelPath ?? ''}
      aria-busy={stale}
    >
      <button
        type="button"
        className="gov-line__trigger"
        aria-expanded={open}
        aria-controls={open ? popoverId : undefined}
        title={decision.reason}
        onClick={() => setOpen((o) => !o)}
      >
        {/* The name is the visible text with hidden words around it (WCAG 2.5.3, Label in Name). */}
        <span className="visually-hidden">Governor: </span>
        <span className="gov-line__profile">
          <ProfileIcon profile={decision.profile} size={13} />
          {profileName(decision.profile)}
        </span>
        <span className="gov-line__arrow" aria-hidden="true">
          →
        </span>
        {chosen ? (
          <>
            <span className="gov-line__model" data-testid="governor-chosen">
              {chosen.name}
            </span>
            <QuantBadge quantization={chosen.quantization} />
            <span className="gov-line__figure">
              {energyApprox(chosen.predicted.source, sensor)}
              {formatJPerToken(chosen.predicted.energyJPerToken)}
            </span>
          </>
        ) : (
          <span className="gov-line__model">no usable model</span>
        )}
        {warning && <IconAlert size={13} className="gov-line__warn" />}
        <span className="gov-line__reason" data-testid="governor-reason">
          {decision.reason}
        </span>
        <span className="visually-hidden">{warning ? '. A limit is not met' : ''}. Show why</span>
      </button>
      {open && (
        <div className="popover gov-popover" id={popoverId} role="group" aria-label="Why the governor chose this model">
          <div className="popover__header">
            <span>Why this model</span>
            <span className="popover__count">{new Date(decision.decidedAt).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' })}</span>
          </div>
          <p className="gov-popover__reason">{decision.reason}</p>
          {warning && (
            <p className="gov-warning" role="note">
              <IconAlert size={14} />
              {warning}
            </p>
          )}
          <dl className="gov-facts">
            {decisionFacts(decision).map((f) => (
              <div key={f.label} className="gov-facts__row">
                <dt>{f.label}</dt>
                <dd>{f.value}</dd>
              </div>
            ))}
          </dl>
          <div className="popover__footer">
            <span className="gov-popover__note">{decision.candidates.length} variants compared</span>
            <button
              type="button"
              className="button button--ghost button--small"
              onClick={() => {
                setOpen(false);
                store.setView('governor');
              }}
            >
              All candidates
              <IconChevronRight size={13} />
            </button>
          </div>
        </div>
      )}
    </div>
  );
}

/** The strip under the chat header: the profile switcher and the current decision. */
export function GovernorBar() {
  return (
    <div className="gov-bar" role="region" aria-label="Power governor">
      <ProfileSwitcher />
      <span className="gov-bar__sep" aria-hidden="true" />
      <GovernorDecisionLine />
    </div>
  );
}
