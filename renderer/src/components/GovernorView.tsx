import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import type { ApiError, GovernorCandidate, GovernorDecision, ProfileId } from '@shared/contract';
import { describeError } from '../api/errors';
import { baseName, formatBytes, formatJPerToken, formatParams, formatPowerW, formatRate } from '../lib/format';
import {
  constraintName,
  energyApprox,
  formatQuality,
  fromGovernorForm,
  powerHint,
  PROFILES,
  profileDescription,
  profileName,
  toGovernorForm,
  type BatteryMode,
  type GovernorField,
  type GovernorForm,
} from '../lib/governor';
import { useAppState, useAppStore } from '../state/context';
import { onAcPower, pinnedModelPath, profileInEffect, sensorMeasured } from '../state/store';
import { GovernorChart } from './GovernorChart';
import { ProfileIcon, ProfileSwitcher, violationText } from './GovernorBar';
import { IconAlert, IconCheck, IconGauge, IconPin } from './Icons';
import { QuantBadge } from './ModelPicker';
import { FieldRow } from './SettingsDialog';
import { ViewHeader } from './ViewHeader';

/** "measured" (this machine's replies) or "predicted" (the roofline model) for a candidate's figures. */
function SourceMark({ source }: { source: GovernorCandidate['predicted']['source'] }) {
  return source === 'measured' ? (
    <span className="tag tag--measured" title="Median of this model’s replies on this computer">
      measured
    </span>
  ) : (
    <span className="tag tag--estimated" title="Predicted by the roofline model (memory bandwidth and CPU speed); no reply measured yet">
      predicted
    </span>
  );
}

function Stat({ label, value, note }: { label: string; value: string; note?: string }) {
  return (
    <div className="stat gov-stat">
      <div className="stat__label">{label}</div>
      <div className="stat__value">{value}</div>
      {note && (
        <div className="stat__note" title={note}>
          {note}
        </div>
      )}
    </div>
  );
}

/** The decision: profile, power state, what was chosen and why, and the limits in play. */
function DecisionCard({
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
  const bandwidth = decision.machine.bandwidthBytesPerSecond;
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
              <SourceMark source={chosen.predicted.source} />
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
          <Stat label="Energy per token" value={`${energyApprox(chosen.predicted.source, sensor)}${formatJPerToken(chosen.predicted.energyJPerToken)}`}
            note={chosen.predicted.source === 'measured' ? (sensor ? 'measured here' : 'from replies here, estimated power') : 'predicted'} />
          <Stat label="Quality" value={formatQuality(chosen.quality)} note={chosen.qualityBasis} />
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
          <dd title="The roofline model behind predicted figures">
            {formatBytes(bandwidth)}/s memory bandwidth ({decision.machine.bandwidthSource === 'measured' ? 'measured' : 'default'}) ·{' '}
            {formatPowerW(decision.machine.activePowerWPerCore)} per busy core
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

/** Every candidate the governor compared, best first; the chosen row highlighted. */
function CandidateTable({ decision }: { decision: GovernorDecision }) {
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
            predicted until a model has replied here
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
                <th scope="col" className="is-numeric">
                  Quality
                </th>
                <th scope="col">Fits</th>
                <th scope="col">Why not chosen</th>
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
                        <SourceMark source={c.predicted.source} />
                      </span>
                    </td>
                    <td className="is-numeric">{formatPowerW(c.predicted.powerW)}</td>
                    <td className="is-numeric">
                      {energyApprox(c.predicted.source, sensor)}
                      {formatJPerToken(c.predicted.energyJPerToken).replace(/ J\/token$/, '')}
                    </td>
                    <td className="is-numeric" title={c.qualityBasis}>
                      {formatQuality(c.quality)}
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

/** The governor's settings: the AC and battery profiles, the Custom limits and the switch interval. */
function GovernorSettingsCard() {
  const store = useAppStore();
  const settings = useAppState((s) => s.settings?.governor);
  const [form, setForm] = useState<GovernorForm | null>(settings ? toGovernorForm(settings) : null);
  const [dirty, setDirty] = useState(false);
  const [errors, setErrors] = useState<Partial<Record<GovernorField, string>>>({});
  const [status, setStatus] = useState<'idle' | 'saving' | 'saved'>('idle');
  const id = useId();
  const f = (name: string) => `${id}-${name}`;

  // The stored settings changed elsewhere (the header's switcher, another window): follow them unless the
  // user is editing.
  useEffect(() => {
    if (settings && !dirty) setForm(toGovernorForm(settings));
  }, [settings, dirty]);

  if (!form || !settings) return null;

  const set = <K extends keyof GovernorForm>(key: K, value: GovernorForm[K]) => {
    setForm((current) => (current ? { ...current, [key]: value } : current));
    setDirty(true);
    setStatus('idle');
    setErrors((e) => ({ ...e, [key === 'batteryMode' ? 'batteryUntil' : key]: undefined, ...(key === 'batteryMode' ? { batteryHours: undefined } : {}), form: undefined }));
  };

  const save = async () => {
    const checked = fromGovernorForm(form);
    if ('errors' in checked) {
      setErrors(checked.errors);
      return;
    }
    setStatus('saving');
    const result = await store.saveGovernorSettings(checked.settings);
    if (result && !result.ok) {
      setStatus('idle');
      setErrors({ form: describeError(result.error) });
      return;
    }
    setErrors({});
    setDirty(false);
    setStatus('saved');
  };

  const reset = () => {
    setForm(toGovernorForm(settings));
    setDirty(false);
    setErrors({});
    setStatus('idle');
  };

  const numberInput = (field: Exclude<GovernorField, 'form' | 'acProfile' | 'batteryProfile'>, unit: string, placeholder?: string) => (
    <div className="input-unit">
      <input
        id={f(field)}
        className="input"
        inputMode="decimal"
        value={form[field]}
        placeholder={placeholder}
        aria-invalid={errors[field] ? true : undefined}
        aria-describedby={errors[field] ? `${f(field)}-error` : undefined}
        data-testid={`governor-${field}`}
        onChange={(e) => set(field, e.target.value)}
      />
      {unit && <span>{unit}</span>}
    </div>
  );

  const profileSelect = (field: 'acProfile' | 'batteryProfile') => (
    <select id={f(field)} className="input select" value={form[field]} data-testid={`governor-${field}`} onChange={(e) => set(field, e.target.value as ProfileId)}>
      {PROFILES.map((p) => (
        <option key={p} value={p}>
          {profileName(p)}
        </option>
      ))}
    </select>
  );

  const batteryModes: { mode: BatteryMode; label: string }[] = [
    { mode: 'none', label: 'No deadline' },
    { mode: 'until', label: 'Until a time' },
    { mode: 'hours', label: 'For some hours' },
  ];

  return (
    <section className="card gov-settings" aria-labelledby="gov-settings-title">
      <header className="card__header">
        <div className="card__titles">
          <h2 className="card__title" id="gov-settings-title">
            Profiles and limits
          </h2>
          <p className="card__subtitle">The governor switches profile by itself when the power source changes.</p>
        </div>
      </header>
      <form
        className="settings gov-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <div className="settings__section">
          <h3 className="settings__heading">Profiles</h3>
          <FieldRow label="On AC power" htmlFor={f('acProfile')} hint={profileDescription(form.acProfile)}>
            {profileSelect('acProfile')}
          </FieldRow>
          <FieldRow label="On battery" htmlFor={f('batteryProfile')} hint={profileDescription(form.batteryProfile)}>
            {profileSelect('batteryProfile')}
          </FieldRow>
        </div>

        <div className="settings__section">
          <h3 className="settings__heading">Custom profile limits</h3>
          <FieldRow label="Watt cap" htmlFor={f('wattCapW')} error={errors.wattCapW} hint="Average power above idle while generating. Empty for no cap.">
            {numberInput('wattCapW', 'W above idle', 'none')}
          </FieldRow>
          <div className={`field${errors.batteryUntil || errors.batteryHours ? ' has-error' : ''}`}>
            <span className="field__label" id={f('battery')}>
              Battery must last
            </span>
            <div className="field__control">
              <div className="gov-battery">
                <div className="segmented" role="radiogroup" aria-labelledby={f('battery')}>
                  {batteryModes.map(({ mode, label }) => (
                    <label key={mode} className={`segmented__item${form.batteryMode === mode ? ' is-active' : ''}`}>
                      <input type="radio" name={f('battery-mode')} value={mode} checked={form.batteryMode === mode} onChange={() => set('batteryMode', mode)} />
                      {label}
                    </label>
                  ))}
                </div>
                {form.batteryMode === 'until' && (
                  <div className="input-unit">
                    <span>until</span>
                    <input
                      className="input input--narrow"
                      aria-label="Battery must last until (HH:MM, 24-hour)"
                      placeholder="18:00"
                      value={form.batteryUntil}
                      aria-invalid={errors.batteryUntil ? true : undefined}
                      aria-describedby={errors.batteryUntil ? `${f('battery')}-error` : undefined}
                      data-testid="governor-batteryUntil"
                      onChange={(e) => set('batteryUntil', e.target.value)}
                    />
                  </div>
                )}
                {form.batteryMode === 'hours' && (
                  <div className="input-unit">
                    <span>for</span>
                    <input
                      className="input input--narrow"
                      inputMode="decimal"
                      aria-label="Battery must last for this many hours"
                      placeholder="3"
                      value={form.batteryHours}
                      aria-invalid={errors.batteryHours ? true : undefined}
                      aria-describedby={errors.batteryHours ? `${f('battery')}-error` : undefined}
                      data-testid="governor-batteryHours"
                      onChange={(e) => set('batteryHours', e.target.value)}
                    />
                    <span>hours</span>
                  </div>
                )}
              </div>
              {errors.batteryUntil || errors.batteryHours ? (
                <p className="field__error" id={`${f('battery')}-error`} role="alert">
                  {errors.batteryUntil ?? errors.batteryHours}
                </p>
              ) : (
                <p className="field__hint">On battery, the governor spreads what is left over the time you need.</p>
              )}
            </div>
          </div>
          <FieldRow label="Keep in reserve" htmlFor={f('reservePercent')} error={errors.reservePercent} hint="Battery the deadline may not use.">
            {numberInput('reservePercent', '% of the battery')}
          </FieldRow>
          <FieldRow label="Minimum speed" htmlFor={f('minDecodeTokensPerSecond')} error={errors.minDecodeTokensPerSecond} hint="5 tokens/s is about reading speed.">
            {numberInput('minDecodeTokensPerSecond', 'tokens/s')}
          </FieldRow>
          <FieldRow label="Minimum quality" htmlFor={f('minQuality')} error={errors.minQuality} hint="0 to 1: 1 is the family’s largest variant at full precision; Saver asks 0.7.">
            {numberInput('minQuality', 'of 1')}
          </FieldRow>
        </div>

        <div className="settings__section">
          <h3 className="settings__heading">Switching</h3>
          <FieldRow label="Switch models at most every" htmlFor={f('minSwitchIntervalMinutes')} error={errors.minSwitchIntervalMinutes} hint="Loading a model costs time and energy. With 0 the governor may switch at any reply, when the saving repays the load.">
            {numberInput('minSwitchIntervalMinutes', 'minutes')}
          </FieldRow>
        </div>

        <div className="gov-form__footer">
          {errors.form && (
            <p className="dialog__error" role="alert">
              {errors.form}
            </p>
          )}
          <span className="gov-form__status" role="status">
            {status === 'saved' && !dirty ? (
              <>
                <IconCheck size={13} /> Saved
              </>
            ) : dirty ? (
              'Unsaved changes'
            ) : (
              ''
            )}
          </span>
          <button type="button" className="button button--ghost" disabled={!dirty || status === 'saving'} onClick={reset}>
            Reset
          </button>
          <button type="submit" className="button button--primary" data-testid="governor-save" disabled={!dirty || status === 'saving'}>
            {status === 'saving' ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
    </section>
  );
}

/**
 * The Governor view: the decision now (or what another profile would choose), every candidate in a table
 * and on an energy-vs-quality chart, and the profiles and limits.
 */
export function GovernorView() {
  const store = useAppStore();
  const current = useAppState((s) => s.governor);
  const error = useAppState((s) => s.governorError);
  const inEffect = useAppState((s) => (s.settings ? profileInEffect(s.settings.governor, onAcPower(s)) : null));
  const onAc = useAppState(onAcPower);
  const sensorNow = useAppState(sensorMeasured);
  const [previewProfile, setPreviewProfile] = useState<ProfileId | null>(null);
  const [preview, setPreview] = useState<{ profile: ProfileId; decision: GovernorDecision } | null>(null);
  const [previewError, setPreviewError] = useState<ApiError | null>(null);
  /** Bumped by "Try again" on a failed preview. */
  const [previewTry, setPreviewTry] = useState(0);
  const seq = useRef(0);
  const selectId = useId();
  const previewing = previewProfile !== null && previewProfile !== inEffect;

  useEffect(() => {
    void store.refreshGovernor();
  }, [store]);

  // Ask again whenever the current decision changes (a reply measured a model, the power source flipped).
  useEffect(() => {
    if (!previewing || !previewProfile) {
      setPreview(null);
      setPreviewError(null);
      return;
    }
    const n = ++seq.current;
    void store.previewGovernor(previewProfile).then((result) => {
      if (n !== seq.current) return;
      if (result.ok) {
        setPreview({ profile: previewProfile, decision: result.value });
        setPreviewError(null);
      } else setPreviewError(result.error);
    });
  }, [store, previewing, previewProfile, current?.decidedAt, previewTry]);

  const shown = previewing ? (preview?.profile === previewProfile ? preview.decision : null) : current;

  const previewSelect = (
    <label className="gov-preview" htmlFor={selectId}>
      <span>What would</span>
      <select
        id={selectId}
        className="input select input--compact"
        data-testid="governor-preview"
        value={previewing && previewProfile ? previewProfile : (inEffect ?? 'performance')}
        onChange={(e) => setPreviewProfile(e.target.value as ProfileId)}
      >
        {PROFILES.map((p) => (
          <option key={p} value={p}>
            {profileName(p)}
            {p === inEffect ? ' (in use)' : ''}
          </option>
        ))}
      </select>
      <span>choose?</span>
    </label>
  );

  const previewBanner =
    previewing && previewProfile ? (
      <div className="gov-preview-banner" role="status">
        <span>
          Preview: what <strong>{profileName(previewProfile)}</strong> would choose now. Nothing changes until you use it.
        </span>
        <button
          type="button"
          className="button button--primary button--small"
          onClick={() => {
            void store.setProfile(previewProfile);
            setPreviewProfile(null);
          }}
        >
          Use {profileName(previewProfile)} {onAc ? 'on AC' : 'on battery'}
        </button>
        <button type="button" className="button button--ghost button--small" onClick={() => setPreviewProfile(null)}>
          Back to current
        </button>
      </div>
    ) : null;

  let body;
  const shownError = previewing ? previewError : error;
  if (!shown && shownError) {
    body = (
      <div className="banner banner--error energy-error" role="alert">
        <span>{describeError(shownError)}</span>
        <button type="button" className="button button--ghost button--small" onClick={() => (previewing ? setPreviewTry((n) => n + 1) : void store.refreshGovernor())}>
          Try again
        </button>
      </div>
    );
  } else if (!shown) {
    body = (
      <div className="chat__loading" aria-label="Asking the governor">
        <span className="skeleton" />
        <span className="skeleton skeleton--short" />
      </div>
    );
  } else {
    body = (
      <>
        <DecisionCard decision={shown} previewing={previewing} previewSelect={previewSelect} previewBanner={previewBanner} />
        <CandidateTable decision={shown} />
        <section className="card" aria-labelledby="gov-chart-title">
          <header className="card__header">
            <div className="card__titles">
              <h2 className="card__title" id="gov-chart-title">
                Energy and quality
              </h2>
              <p className="card__subtitle">Each variant’s energy per token against its quality; up and to the left is better.</p>
            </div>
          </header>
          <GovernorChart candidates={shown.candidates} sensorMeasured={sensorNow} />
        </section>
      </>
    );
  }

  return (
    <main className="energy-view governor-view" data-testid="governor-view" aria-label="Power governor">
      <ViewHeader title="Governor">
          <ProfileSwitcher />
      </ViewHeader>
      <div className="energy-view__scroll">
        <div className="energy-view__column">
          {body}
          <GovernorSettingsCard />
        </div>
      </div>
    </main>
  );
}
