import { useEffect, useId, useRef, useState } from 'react';
import type { ApiError, GovernorDecision, ProfileId } from '@shared/contract';
import { describeError } from '../api/errors';
import { PROFILES, profileName } from '../lib/governor';
import { useAppState, useAppStore } from '../state/context';
import { onAcPower, profileInEffect, sensorMeasured } from '../state/store';
import { GovernorChart } from './GovernorChart';
import { ProfileSwitcher } from './GovernorBar';
import { CalibrationPanel } from './governor/CalibrationPanel';
import { CandidateTable } from './governor/CandidateTable';
import { DecisionCard } from './governor/DecisionCard';
import { MeasurementsTable } from './governor/MeasurementsTable';
import { GovernorSettingsCard } from './governor/SettingsCard';
import { ViewHeader } from './ViewHeader';

/**
 * The Governor view: the decision now (or what another profile would choose), the calibration bench,
 * every candidate in a table and on an energy-vs-quality chart, what the bench measured, and the profiles
 * and limits.
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

  const models = useAppState((s) => s.models);

  useEffect(() => {
    void store.refreshGovernor();
    void store.refreshCalibration();
  }, [store]);

  // The estimate covers the usable models: ask again when the models folder changes.
  useEffect(() => {
    void store.refreshCalibrationEstimate();
  }, [store, models]);

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

  let top;
  const shownError = previewing ? previewError : error;
  if (!shown && shownError) {
    top = (
      <div className="banner banner--error energy-error" role="alert">
        <span>{describeError(shownError)}</span>
        <button type="button" className="button button--ghost button--small" onClick={() => (previewing ? setPreviewTry((n) => n + 1) : void store.refreshGovernor())}>
          Try again
        </button>
      </div>
    );
  } else if (!shown) {
    top = (
      <div className="chat__loading" aria-label="Asking the governor">
        <span className="skeleton" />
        <span className="skeleton skeleton--short" />
      </div>
    );
  } else {
    top = <DecisionCard decision={shown} previewing={previewing} previewSelect={previewSelect} previewBanner={previewBanner} />;
  }

  return (
    <main className="energy-view governor-view" data-testid="governor-view" aria-label="Power governor">
      <ViewHeader title="Governor">
        <ProfileSwitcher />
      </ViewHeader>
      <div className="energy-view__scroll">
        <div className="energy-view__column">
          {top}
          <CalibrationPanel />
          {shown && (
            <>
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
          )}
          <MeasurementsTable candidates={shown?.candidates ?? []} />
          <GovernorSettingsCard />
        </div>
      </div>
    </main>
  );
}
