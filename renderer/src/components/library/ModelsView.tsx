import { useEffect } from 'react';
import { formatBytes } from '../../lib/format';
import { useAppState, useAppStore } from '../../state/context';
import { IconHardDrive, IconRefresh } from '../Icons';
import { ViewHeader } from '../ViewHeader';
import { CatalogSection } from './CatalogSection';
import { DownloadsPanel } from './DownloadsPanel';
import { InstalledSection } from './InstalledSection';
import { RecommendedSection } from './RecommendedSection';

/** The header's disk figure: what the models folder holds and what is free. */
function DiskChip() {
  const status = useAppState((s) => s.library.status);
  if (!status) return null;
  return (
    <span className="disk-chip" data-testid="disk-chip" title={`Models folder: ${status.modelsDir}`}>
      <IconHardDrive size={14} />
      <span className="disk-chip__label">Models folder</span>
      {formatBytes(status.modelsDirBytes)}
      {status.freeDiskBytes !== null && <span className="disk-chip__free"> · {formatBytes(status.freeDiskBytes)} free</span>}
    </span>
  );
}

/**
 * The Models view: what to download for this computer (with its cost predicted first), the downloads
 * going on, the installed models (own folder and other apps'), and the whole catalog.
 */
export function ModelsView() {
  const store = useAppStore();
  const loading = useAppState((s) => s.library.loading || s.modelsLoading);

  useEffect(() => {
    void store.refreshLibrary();
    void store.refreshDownloads();
    void store.refreshModels();
  }, [store]);

  const refresh = () => {
    void store.refreshLibrary();
    void store.refreshModels();
  };

  return (
    <main className="energy-view library-view" data-testid="models-view" aria-label="Models">
      <ViewHeader title="Models">
        <DiskChip />
        <button type="button" className="button button--ghost button--small" data-testid="library-refresh" disabled={loading} onClick={refresh} title="Look for new files and work the predictions out again">
          <IconRefresh size={13} className={loading ? 'spin' : undefined} />
          Refresh
        </button>
      </ViewHeader>
      <div className="energy-view__scroll">
        <div className="energy-view__column">
          <RecommendedSection />
          <DownloadsPanel />
          <InstalledSection />
          <CatalogSection />
        </div>
      </div>
    </main>
  );
}
