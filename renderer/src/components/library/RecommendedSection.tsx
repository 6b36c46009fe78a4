import { useId, useState } from 'react';
import type { RecommendedLadder } from '@shared/contract';
import { describeError } from '../../api/errors';
import { formatBytes } from '../../lib/format';
import { isUnfinished, jobForOffer } from '../../lib/library';
import { useAppState, useAppStore } from '../../state/context';
import { IconDownload } from '../Icons';
import { RungCard } from './RungCard';

/** The rungs "Download all" would fetch: not installed, and not being (or paused while) downloaded. */
function useMissingRungs(ladder: RecommendedLadder | null) {
  const downloads = useAppState((s) => s.library.downloads);
  if (!ladder) return { missing: [], inProgress: 0 };
  const notInstalled = ladder.rungs.filter((r) => r.offer.installedPath === null && jobForOffer(downloads, r.offer)?.state !== 'done');
  const missing = notInstalled.filter((r) => {
    const job = jobForOffer(downloads, r.offer);
    return !job || !isUnfinished(job);
  });
  return { missing, inProgress: notInstalled.length - missing.length };
}

/**
 * "Recommended for this computer": about three catalog variants (Saver, Balanced, Performance) with
 * what each would cost here before downloading, the total download against the free disk, and one
 * "Download all" for the ones not installed yet.
 */
export function RecommendedSection() {
  const store = useAppStore();
  const ladder = useAppState((s) => s.library.ladder);
  const error = useAppState((s) => s.library.ladderError);
  const loading = useAppState((s) => s.library.loading);
  const { missing, inProgress } = useMissingRungs(ladder);
  const [starting, setStarting] = useState(false);
  const [startError, setStartError] = useState<string | null>(null);
  const whyId = useId();

  const downloadAll = async () => {
    setStarting(true);
    setStartError(null);
    const results = await Promise.all(missing.map((r) => store.startDownload(r.offer.uri, r.offer.entry.sha256)));
    setStarting(false);
    const failed = results.find((r) => !r.ok);
    if (failed && !failed.ok) setStartError(describeError(failed.error));
  };

  let body;
  if (!ladder && error) {
    body = (
      <div className="banner banner--error energy-error" role="alert">
        <span>The recommendations could not be worked out. {describeError(error)}</span>
        <button type="button" className="button button--ghost button--small" onClick={() => void store.refreshLibrary()}>
          Try again
        </button>
      </div>
    );
  } else if (!ladder) {
    body = (
      <div className="rungs" aria-busy="true" aria-label={loading ? 'Working out the recommendations' : undefined}>
        {[0, 1, 2].map((i) => (
          <div key={i} className="rung rung--placeholder">
            <span className="skeleton" />
            <span className="skeleton skeleton--short" />
            <span className="skeleton" />
          </div>
        ))}
      </div>
    );
  } else if (ladder.rungs.length === 0) {
    body = <p className="library-empty">{ladder.note ?? 'No model in the catalog fits this computer.'}</p>;
  } else {
    body = (
      <div className="rungs">
        {ladder.rungs.map((rung) => (
          <RungCard key={rung.profile} rung={rung} />
        ))}
      </div>
    );
  }

  // What "Download all" would fetch, and why it cannot.
  const bytes = missing.reduce((sum, r) => sum + r.offer.entry.sizeBytes, 0);
  const free = ladder?.freeDiskBytes ?? null;
  let why: string | null = null;
  if (ladder && ladder.rungs.length > 0) {
    if (missing.length === 0) why = inProgress > 0 ? 'The rest are downloading.' : 'All of them are installed.';
    else if (free !== null && bytes > free) why = `Needs ${formatBytes(bytes)}, but only ${formatBytes(free)} is free.`;
  }
  const total = ladder ? (
    <span className="ladder-total" data-testid="ladder-total" data-download-bytes={ladder.downloadBytes}>
      {ladder.downloadBytes > 0 ? (
        <>
          <strong>{formatBytes(ladder.downloadBytes)}</strong> to download
        </>
      ) : (
        'Nothing to download'
      )}
      {free !== null && (
        <>
          {' · '}
          <span className={free < ladder.downloadBytes ? 'ladder-total__short' : undefined}>{formatBytes(free)} free on disk</span>
        </>
      )}
    </span>
  ) : null;

  return (
    <section className="card library-card" aria-labelledby="rec-title" data-testid="recommended">
      <header className="card__header">
        <div className="card__titles">
          <h2 className="card__title" id="rec-title">
            Recommended for this computer
          </h2>
          <p className="card__subtitle">One model for each power profile, with what it would cost here, predicted before you download it.</p>
        </div>
        {ladder && ladder.rungs.length > 0 && (
          <div className="ladder-actions">
            {total}
            <button
              type="button"
              className="button button--primary button--small"
              data-testid="download-all"
              disabled={starting || why !== null}
              aria-describedby={why ? whyId : undefined}
              onClick={() => void downloadAll()}
            >
              <IconDownload size={13} />
              {starting ? 'Starting…' : missing.length > 0 && missing.length < ladder.rungs.length ? `Download ${missing.length} missing` : 'Download all'}
            </button>
          </div>
        )}
      </header>
      {body}
      {(why || ladder?.note || startError) && (
        <div className="ladder-notes">
          {why && (
            <p className="ladder-note" id={whyId} data-testid="download-all-why">
              {why}
            </p>
          )}
          {ladder?.note && <p className="ladder-note">{ladder.note}</p>}
          {startError && (
            <p className="ladder-note ladder-note--error" role="alert">
              {startError}
            </p>
          )}
        </div>
      )}
    </section>
  );
}
