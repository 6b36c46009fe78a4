import { useEffect, useId, useState } from 'react';
import type { ProfileId } from '@shared/contract';
import { describeQuality, SAVER_QUALITY_FLOOR } from '@shared/qualityScale';
import { describeError } from '../../api/errors';
import { fromGovernorForm, PROFILES, profileDescription, profileName, toGovernorForm, type BatteryMode, type GovernorField, type GovernorForm } from '../../lib/governor';
import { useAppState, useAppStore } from '../../state/context';
import { IconCheck } from '../Icons';
import { FieldRow } from '../SettingsDialog';

/** What a typed minimum quality means ("= like a 1B model at full precision"), or nothing while it is not a number in 0..1. */
function QualityMeaning({ text }: { text: string }) {
  const value = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= 0 && value <= 1)) return null;
  return (
    <span className="gov-quality-meaning" data-testid="governor-minQuality-meaning">
      {value === 0 ? 'no floor' : describeQuality(value)}
    </span>
  );
}

/**
 * The governor's settings: the AC and battery profiles, the Custom limits, the switch interval and
 * whether new models are calibrated by themselves. Saved together (one `settings.update`).
 */
export function GovernorSettingsCard() {
  const store = useAppStore();
  const settings = useAppState((s) => s.settings?.governor);
  const autoStored = useAppState((s) => s.settings?.calibration.autoWhenIdleOnAc ?? false);
  const [form, setForm] = useState<GovernorForm | null>(settings ? toGovernorForm(settings) : null);
  const [autoCalibrate, setAutoCalibrate] = useState(autoStored);
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
  useEffect(() => {
    if (!dirty) setAutoCalibrate(autoStored);
  }, [autoStored, dirty]);

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
    const result = await store.saveGovernorSettings(checked.settings, autoCalibrate === autoStored ? undefined : { autoWhenIdleOnAc: autoCalibrate });
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
    setAutoCalibrate(autoStored);
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
          <FieldRow
            label="Minimum quality"
            htmlFor={f('minQuality')}
            error={errors.minQuality}
            hint={`0 to 1, one scale for every model: 1 would be a model of unlimited size. Saver asks ${SAVER_QUALITY_FLOOR.text}.`}
          >
            <div className="gov-quality-field">
              {numberInput('minQuality', 'of 1')}
              <QualityMeaning text={form.minQuality} />
            </div>
          </FieldRow>
        </div>

        <div className="settings__section">
          <h3 className="settings__heading">Switching</h3>
          <FieldRow label="Switch models at most every" htmlFor={f('minSwitchIntervalMinutes')} error={errors.minSwitchIntervalMinutes} hint="Loading a model costs time and energy. With 0 the governor may switch at any reply, when the saving repays the load.">
            {numberInput('minSwitchIntervalMinutes', 'minutes')}
          </FieldRow>
        </div>

        <div className="settings__section">
          <h3 className="settings__heading">Calibration</h3>
          <div className="field">
            <span className="field__label" aria-hidden="true">
              New models
            </span>
            <div className="field__control">
              <label className="gov-check" htmlFor={f('autoCalibrate')}>
                <input
                  id={f('autoCalibrate')}
                  type="checkbox"
                  checked={autoCalibrate}
                  data-testid="governor-autoCalibrate"
                  aria-describedby={`${f('autoCalibrate')}-hint`}
                  onChange={(e) => {
                    setAutoCalibrate(e.target.checked);
                    setDirty(true);
                    setStatus('idle');
                  }}
                />
                Calibrate new models by itself when plugged in and idle
              </label>
              <p className="field__hint" id={`${f('autoCalibrate')}-hint`}>
                Measures each new model’s quality, speed and energy here, so the governor decides on measurements instead of estimates. It stops when a reply starts.
              </p>
            </div>
          </div>
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
