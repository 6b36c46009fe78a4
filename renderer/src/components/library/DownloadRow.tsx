import { useState } from 'react';
import type { DownloadJob } from '@shared/contract';
import { describeError } from '../../api/errors';
import {
  downloadErrorText,
  downloadFileName,
  downloadFraction,
  downloadStateText,
  formatProgressBytes,
  formatSpeed,
  formatTimeLeft,
  isRunning,
} from '../../lib/library';
import { useAppStore } from '../../state/context';
import { IconAlert, IconCheck, IconClose, IconDownload, IconPause, IconPlay, IconRefresh } from '../Icons';
import { ProgressBar } from '../ProgressBar';

/** The figures under a job's bar: bytes done of total, speed and time left while it runs. */
function facts(job: DownloadJob): string[] {
  const out: string[] = [];
  if (job.state === 'cancelled') return ['the partial file was deleted'];
  const bytes = formatProgressBytes(job);
  if (bytes) out.push(bytes);
  if (job.state === 'active' && job.progress) {
    out.push(formatSpeed(job.progress.bytesPerSecond));
    const left = formatTimeLeft(job.progress.etaMs);
    if (left) out.push(left);
  }
  if (job.state === 'done' && job.result && job.result.resumedFromBytes > 0) out.push('resumed after a pause');
  return out;
}

/**
 * One download: its file, state in words, a progress bar, bytes, speed and time left, Pause / Resume /
 * Cancel, the error in words when it failed, and "Verified" when the finished file matched its checksum.
 * `name` is the catalog's name for it, when it is a catalog file.
 */
export function DownloadRow({ job, name }: { job: DownloadJob; name?: string }) {
  const store = useAppStore();
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const file = downloadFileName(job);
  const fraction = downloadFraction(job);
  const pct = fraction === null ? null : Math.floor(fraction * 100);
  const state = downloadStateText(job);
  const running = isRunning(job);

  const act = async (action: 'pause' | 'resume' | 'cancel') => {
    setBusy(true);
    setActionError(null);
    const result = await store.downloadAction(action, job.id);
    setBusy(false);
    if (!result.ok) setActionError(describeError(result.error));
  };

  const tone = job.state === 'failed' ? 'failed' : job.state === 'paused' || job.state === 'cancelled' || job.state === 'queued' ? 'muted' : 'normal';
  const icon =
    job.state === 'done' ? <IconCheck size={14} /> : job.state === 'failed' ? <IconAlert size={14} /> : job.state === 'cancelled' ? <IconClose size={14} /> : job.state === 'paused' ? <IconPause size={14} /> : <IconDownload size={14} />;
  const detail = job.error && job.error.message && !['CORRUPT', 'ABORTED'].includes(job.error.code) ? job.error.message : null;

  return (
    <li className={`dl-row is-${job.state}`} data-testid="download-row" data-state={job.state} data-job-id={job.id} data-file={file}>
      <span className={`dl-row__icon is-${job.state}`} aria-hidden="true">
        {icon}
      </span>
      <div className="dl-row__main">
        <div className="dl-row__line">
          <span className="dl-row__name" title={job.source ?? job.input}>
            {name ?? file}
          </span>
          {name && <span className="dl-row__file">{file}</span>}
          <span className="dl-row__state" data-testid="download-state">
            {state}
            {pct !== null && job.state !== 'done' && job.state !== 'cancelled' && <span className="dl-row__pct"> · {pct}%</span>}
          </span>
        </div>
        {job.state !== 'done' && job.state !== 'cancelled' && (
          <ProgressBar
            fraction={fraction}
            size="small"
            tone={tone}
            label={`Download of ${file}`}
            valueText={`${pct === null ? 'size unknown' : `${pct}%`}, ${state.toLowerCase()}`}
            testId="download-progress"
          />
        )}
        <div className="dl-row__meta">
          {facts(job).map((f) => (
            <span key={f}>{f}</span>
          ))}
          {job.state === 'done' &&
            (job.result?.verified ? (
              <span className="dl-row__verified" data-testid="download-verified" title={job.result.sha256 ? `SHA-256 ${job.result.sha256}` : undefined}>
                <IconCheck size={12} />
                Verified
              </span>
            ) : (
              <span className="dl-row__unverified" title="The server gave no checksum to compare with">
                Not verified: no checksum to compare with
              </span>
            ))}
        </div>
        {job.state === 'failed' && job.error && (
          <p className="dl-row__error" data-testid="download-error" data-code={job.error.code}>
            {downloadErrorText(job.error)}
            {detail && <span className="dl-row__error-detail"> {detail}</span>}
          </p>
        )}
        {actionError && (
          <p className="dl-row__error" role="alert">
            {actionError}
          </p>
        )}
      </div>
      <div className="dl-row__actions">
        {running && (
          <button type="button" className="button button--ghost button--small" data-testid="download-pause" disabled={busy} aria-label={`Pause the download of ${file}`} onClick={() => void act('pause')}>
            <IconPause size={12} />
            Pause
          </button>
        )}
        {(job.state === 'paused' || job.state === 'failed') && (
          <button type="button" className="button button--ghost button--small" data-testid="download-resume" disabled={busy} aria-label={`${job.state === 'failed' ? 'Retry' : 'Resume'} the download of ${file}`} onClick={() => void act('resume')}>
            {job.state === 'failed' ? <IconRefresh size={12} /> : <IconPlay size={11} />}
            {job.state === 'failed' ? 'Retry' : 'Resume'}
          </button>
        )}
        {(running || job.state === 'paused' || job.state === 'failed') && (
          <button
            type="button"
            className="icon-button icon-button--small icon-button--danger"
            data-testid="download-cancel"
            disabled={busy}
            aria-label={`Cancel the download of ${file} and delete the partial file`}
            title="Cancel and delete the partial file"
            onClick={() => void act('cancel')}
          >
            <IconClose size={14} />
          </button>
        )}
      </div>
    </li>
  );
}
