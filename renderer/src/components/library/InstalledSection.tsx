import { useState } from 'react';
import type { ModelInfo } from '@shared/contract';
import { describeError } from '../../api/errors';
import { formatBytes, formatParams } from '../../lib/format';
import { canDelete, displayFileName, sourceName } from '../../lib/library';
import { useAppState, useAppStore } from '../../state/context';
import { Dialog } from '../Dialog';
import { IconAlert, IconCheck, IconFolder, IconTrash } from '../Icons';
import { QuantBadge } from '../ModelPicker';
import { SourceBadge } from './SourceBadge';

/** Own folder first, then the other apps' files; by name within each. */
function ordered(models: readonly ModelInfo[]): ModelInfo[] {
  const rank = (m: ModelInfo) => (m.source === 'models-folder' ? 0 : 1);
  return [...models].sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name, 'en', { sensitivity: 'base', numeric: true }) || a.path.localeCompare(b.path));
}

/**
 * The installed models: Wattwise's own folder and the other apps' (read in place), each with its size,
 * quantization and where it was found; unusable ones with their problem. Files in the own folder can be
 * deleted (after a confirmation that says the size freed). The folder's disk use and the free disk below.
 */
export function InstalledSection() {
  const store = useAppStore();
  const models = useAppState((s) => s.models);
  const modelsError = useAppState((s) => s.modelsError);
  const status = useAppState((s) => s.library.status);
  const modelsDir = useAppState((s) => s.library.status?.modelsDir ?? s.info?.modelsDir);
  const [pending, setPending] = useState<ModelInfo | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);

  const confirmDelete = async () => {
    if (!pending) return;
    setDeleting(true);
    setDeleteError(null);
    const result = await store.deleteModel(pending.path);
    setDeleting(false);
    if (!result.ok) {
      setDeleteError(describeError(result.error));
      return;
    }
    setDone(`Deleted ${pending.fileName}: ${formatBytes(result.value.freedBytes)} freed.`);
    setPending(null);
  };

  const list = ordered(models ?? []);
  const own = list.filter((m) => m.source === 'models-folder');
  const others = list.length - own.length;
  const withModels = status?.sources.filter((s) => s.enabled && s.found > 0) ?? [];
  const anyEnabled = status?.sources.some((s) => s.enabled) ?? false;

  return (
    <section className="card card--flush library-card" aria-labelledby="installed-title" data-testid="installed">
      <header className="card__header">
        <div className="card__titles">
          <h2 className="card__title" id="installed-title">
            Installed models
          </h2>
          <p className="card__subtitle">
            {models === null
              ? 'Looking for models…'
              : `${own.length} in the models folder${others ? ` · ${others} from other apps, read in place` : ''}`}
          </p>
        </div>
      </header>
      {done && (
        <p className="library-status" role="status" data-testid="delete-status">
          <IconCheck size={13} />
          {done}
        </p>
      )}
      {modelsError && (
        <p className="library-card__error" role="alert">
          {describeError(modelsError)}
        </p>
      )}
      {models !== null && list.length === 0 ? (
        <div className="library-empty">
          <IconFolder size={20} />
          <p>
            No models yet. Download one of the recommended models above, or put <strong>.gguf</strong> files in the models folder.
          </p>
        </div>
      ) : (
        <div className="table-scroll library-table-scroll">
          <table className="energy-table library-table installed-table">
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Quant</th>
                <th scope="col" className="is-numeric">
                  Params
                </th>
                <th scope="col" className="is-numeric">
                  Size
                </th>
                <th scope="col">Where</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((m) => (
                <tr key={m.path} data-testid="installed-model" data-model-path={m.path} data-source={m.source} data-usable={m.usable ? 'true' : 'false'} className={m.usable ? undefined : 'is-unusable'}>
                  <td className="installed-table__model" title={m.path}>
                    <span className="installed-table__name">{m.name}</span>
                    {m.usable ? (
                      <span className="installed-table__file">{displayFileName(m)}</span>
                    ) : (
                      <span className="installed-table__problem" data-testid="installed-problem">
                        <IconAlert size={12} />
                        {m.problem ?? 'This file cannot be used.'}
                      </span>
                    )}
                  </td>
                  <td>
                    <QuantBadge quantization={m.quantization} />
                  </td>
                  <td className="is-numeric">{formatParams(m.parameterCount) ?? '—'}</td>
                  <td className="is-numeric">{formatBytes(m.sizeBytes)}</td>
                  <td className="installed-table__source">
                    <SourceBadge model={m} />
                  </td>
                  <td className="installed-table__action">
                    {canDelete(m) ? (
                      <button
                        type="button"
                        className="icon-button icon-button--small icon-button--danger"
                        data-testid="installed-delete"
                        aria-label={`Delete ${m.fileName} (${formatBytes(m.sizeBytes)})`}
                        title={`Delete ${m.fileName} from the models folder`}
                        onClick={() => {
                          setDeleteError(null);
                          setDone(null);
                          setPending(m);
                        }}
                      >
                        <IconTrash size={14} />
                      </button>
                    ) : (
                      <span className="installed-table__readonly" title={`${sourceName(m.source)} keeps this file; remove it there`}>
                        read only
                      </span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <footer className="library-card__footer" data-testid="library-disk">
        <span className="library-card__folder" title={modelsDir}>
          <IconFolder size={13} />
          <bdi>{modelsDir ?? '—'}</bdi>
        </span>
        {status && (
          <span className="library-card__disk">
            <strong>{formatBytes(status.modelsDirBytes)}</strong> used
            {status.freeDiskBytes !== null && (
              <>
                {' · '}
                <strong>{formatBytes(status.freeDiskBytes)}</strong> free on disk
              </>
            )}
          </span>
        )}
        {status && (
          <span className="library-card__sources" title="Which apps are read: Settings → Use models from other apps">
            {!anyEnabled
              ? 'Other apps’ folders are not read (Settings)'
              : withModels.length === 0
                ? 'No models found in other apps’ folders'
                : `From other apps: ${withModels.map((s) => `${sourceName(s.source)} ${s.found}`).join(', ')}`}
          </span>
        )}
      </footer>

      <Dialog
        open={pending !== null}
        onClose={() => setPending(null)}
        title={`Delete ${pending?.name ?? 'model'}?`}
        testId="delete-model-dialog"
        description={
          pending && (
            <>
              <strong>{pending.fileName}</strong> will be deleted from the models folder. This frees <strong>{formatBytes(pending.sizeBytes)}</strong> and cannot be
              undone; conversations that used it keep their replies.
            </>
          )
        }
        footer={
          <>
            {deleteError && (
              <p className="dialog__error" role="alert">
                {deleteError}
              </p>
            )}
            <button type="button" className="button button--ghost" onClick={() => setPending(null)}>
              Cancel
            </button>
            <button type="button" className="button button--danger" data-testid="confirm-delete-model" disabled={deleting} onClick={() => void confirmDelete()}>
              {deleting ? 'Deleting…' : 'Delete'}
            </button>
          </>
        }
      />
    </section>
  );
}
