import { formatBytes } from '../../lib/format';
import { downloadFileName, formatTimeLeft } from '../../lib/library';
import { useAppState, useAppStore } from '../../state/context';
import { runningDownloads } from '../../state/store';
import { IconDownload } from '../Icons';
import { ProgressBar } from '../ProgressBar';

/**
 * The sidebar's compact download indicator, shown while downloads run (whatever the view): what is
 * downloading, overall progress and time left; a click opens the Models view.
 */
export function DownloadIndicator() {
  const store = useAppStore();
  const downloads = useAppState((s) => s.library.downloads);
  const running = runningDownloads(downloads);
  if (running.length === 0) return null;
  let done = 0;
  let total = 0;
  let known = true;
  let eta = 0;
  for (const job of running) {
    const p = job.progress;
    if (!p || p.totalBytes === null) {
      known = false;
      continue;
    }
    done += p.downloadedBytes;
    total += p.totalBytes;
    eta = Math.max(eta, p.etaMs ?? 0);
  }
  const fraction = known && total > 0 ? done / total : null;
  const pct = fraction === null ? null : Math.floor(fraction * 100);
  const first = running[0]!;
  const title = running.length === 1 ? downloadFileName(first) : `${running.length} downloads`;
  const left = formatTimeLeft(eta > 0 ? eta : null);
  return (
    <button type="button" className="dl-indicator" data-testid="download-indicator" onClick={() => store.setView('models')} aria-label={`${title}: ${pct === null ? 'downloading' : `${pct}%`}. Show downloads`}>
      <span className="dl-indicator__line">
        <IconDownload size={13} className="dl-indicator__icon" />
        <span className="dl-indicator__name">{title}</span>
        <span className="dl-indicator__pct">{pct === null ? '' : `${pct}%`}</span>
      </span>
      <ProgressBar fraction={fraction} size="small" label="Downloads" valueText={pct === null ? 'downloading' : `${pct}%`} testId="download-indicator-progress" />
      <span className="dl-indicator__meta">
        {total > 0 ? `${formatBytes(done)} of ${formatBytes(total)}` : 'Starting…'}
        {left && ` · ${left}`}
      </span>
    </button>
  );
}
