import { useState } from 'react';
import type { CatalogOffer } from '@shared/contract';
import { describeError } from '../../api/errors';
import { formatBytes } from '../../lib/format';
import { downloadFraction, jobForOffer } from '../../lib/library';
import { useAppState, useAppStore } from '../../state/context';
import { IconCheck, IconDownload, IconPlay } from '../Icons';
import { ProgressBar } from '../ProgressBar';

/**
 * What can be done with a catalog offer, where it is shown (a recommended card, a catalog row): "Installed",
 * its download's progress, Resume / Retry, or Download (with its size). `layout` `wide` fills a card.
 */
export function OfferAction({ offer, layout = 'compact' }: { offer: CatalogOffer; layout?: 'compact' | 'wide' }) {
  const store = useAppStore();
  const job = useAppState((s) => jobForOffer(s.library.downloads, offer));
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const label = `${offer.entry.name} ${offer.entry.quantization}`;

  if (offer.installedPath !== null || job?.state === 'done') {
    return (
      <span className={`offer-action offer-action--${layout} offer-installed`} data-testid="offer-installed" title={offer.installedPath ?? undefined}>
        <IconCheck size={13} />
        Installed
      </span>
    );
  }

  if (job && (job.state === 'queued' || job.state === 'active' || job.state === 'paused')) {
    const fraction = downloadFraction(job);
    const pct = fraction === null ? null : Math.floor(fraction * 100);
    return (
      <span className={`offer-action offer-action--${layout} offer-progress`} data-testid="offer-progress" data-state={job.state}>
        <span className="offer-progress__text">
          {job.state === 'paused' ? 'Paused' : job.state === 'queued' ? 'Waiting' : 'Downloading'}
          {pct !== null && ` ${pct}%`}
        </span>
        <ProgressBar fraction={fraction} size="small" tone={job.state === 'active' ? 'normal' : 'muted'} label={`Download of ${label}`} valueText={pct === null ? job.state : `${pct}%, ${job.state}`} testId="offer-progress-bar" />
        {job.state === 'paused' && (
          <button type="button" className="button button--ghost button--small" aria-label={`Resume the download of ${label}`} onClick={() => void store.downloadAction('resume', job.id)}>
            <IconPlay size={11} />
            Resume
          </button>
        )}
      </span>
    );
  }

  const start = async () => {
    setStarting(true);
    setError(null);
    const result = await store.startDownload(offer.uri, offer.entry.sha256);
    setStarting(false);
    if (!result.ok) setError(describeError(result.error));
  };
  const failed = job?.state === 'failed';
  const size = formatBytes(offer.entry.sizeBytes);
  // The accessible name contains the visible text, word for word (WCAG 2.5.3, Label in Name).
  const text = starting ? 'Starting…' : failed ? 'Retry' : layout === 'wide' ? `Download ${size}` : 'Download';
  const name = starting
    ? `Starting the download of ${label}`
    : failed
      ? `Retry the download of ${label} (${size})`
      : layout === 'wide'
        ? `Download ${size}: ${label}`
        : `Download ${label} (${size})`;
  return (
    <span className={`offer-action offer-action--${layout}`}>
      <button
        type="button"
        className={`button button--small ${layout === 'wide' ? 'button--primary' : 'button--ghost'}`}
        data-testid="offer-download"
        data-uri={offer.uri}
        disabled={starting}
        aria-label={name}
        title={offer.fitsMemory ? undefined : 'It may not fit in this computer’s memory'}
        onClick={() => void start()}
      >
        <IconDownload size={13} />
        {text}
      </button>
      {(error || failed) && (
        <span className="offer-action__error" role={error ? 'alert' : undefined}>
          {error ?? 'The last try failed: see Downloads.'}
        </span>
      )}
    </span>
  );
}
