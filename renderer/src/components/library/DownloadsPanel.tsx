import { describeError } from '../../api/errors';
import { isRunning, jobMatchesOffer } from '../../lib/library';
import { useAppState, useAppStore } from '../../state/context';
import { DownloadRow } from './DownloadRow';

/**
 * Every download of this session (and partial ones found on disk, paused), newest first, each with its
 * bar and buttons. Hidden while there is none. Downloads go on in the background: this only shows them.
 */
export function DownloadsPanel() {
  const store = useAppStore();
  const downloads = useAppState((s) => s.library.downloads);
  const cleared = useAppState((s) => s.library.cleared);
  const error = useAppState((s) => s.library.downloadsError);
  const offers = useAppState((s) => s.library.offers);
  const shown = downloads.filter((j) => !cleared.includes(j.id)).reverse();
  if (shown.length === 0 && !error) return null;
  const running = shown.filter(isRunning).length;
  const paused = shown.filter((j) => j.state === 'paused').length;
  const failed = shown.filter((j) => j.state === 'failed').length;
  const finished = shown.filter((j) => j.state === 'done' || j.state === 'cancelled').length;
  const parts = [running && `${running} downloading`, paused && `${paused} paused`, failed && `${failed} failed`, finished && `${finished} finished`].filter(Boolean);
  return (
    <section className="card card--flush library-card" aria-labelledby="dl-title" data-testid="downloads-panel">
      <header className="card__header">
        <div className="card__titles">
          <h2 className="card__title" id="dl-title">
            Downloads
          </h2>
          <p className="card__subtitle">{parts.join(' · ')}
            {running + paused > 0 && '. They go on while you use the rest of the app.'}</p>
        </div>
        {finished > 0 && (
          <button type="button" className="button button--ghost button--small" data-testid="downloads-clear" onClick={() => store.clearFinishedDownloads()}>
            Clear finished
          </button>
        )}
      </header>
      {error && shown.length === 0 && (
        <p className="library-card__error" role="alert">
          The downloads could not be listed. {describeError(error)}
        </p>
      )}
      <ul className="dl-list" aria-label="Downloads">
        {shown.map((job) => (
          <DownloadRow key={job.id} job={job} name={offers?.find((o) => jobMatchesOffer(job, o))?.entry.name} />
        ))}
      </ul>
    </section>
  );
}
