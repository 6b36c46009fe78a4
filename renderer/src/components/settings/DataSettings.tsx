import { useEffect, useId, useRef, useState } from 'react';
import type { BackupInfo, BackupList, ImportResult } from '@shared/dataContract';
import { maxArchiveTextChars } from '@shared/dataContract';
import { describeError } from '../../api/errors';
import { downloadText } from '../../lib/download';
import { formatBytes, fullTime } from '../../lib/format';
import { useAppState, useAppStore } from '../../state/context';
import { Dialog } from '../Dialog';
import { IconAlert, IconCheck, IconDownload, IconHardDrive, IconRefresh, IconUpload } from '../Icons';

/** What an import said, in one sentence. */
function importSentence(result: ImportResult): string {
  const what = `Imported ${result.imported} ${result.imported === 1 ? 'conversation' : 'conversations'} (${result.messages} ${result.messages === 1 ? 'message' : 'messages'})`;
  if (result.renamedIds === 0) return `${what}.`;
  return `${what}. ${result.renamedIds === 1 ? 'One was already here, so the copy got a new id' : `${result.renamedIds} were already here, so the copies got new ids`}.`;
}

/** A backup's date as people read it, from its time. */
function backupDate(backup: Pick<BackupInfo, 'createdAt'>): string {
  return fullTime(backup.createdAt);
}

/** Restores older than this are no longer worth a line in Settings (a week, in ms). */
const OUTCOME_SHOWN_MS = 7 * 24 * 3600 * 1000;

/**
 * Settings → Data: export every conversation (JSON), import an export (file picker; the result or what was wrong
 * with the file), back up the whole database now, the list of backups with Restore… (confirmation, then "restart to
 * finish"), the restore waiting for the next start (with Cancel) and how the last one ended.
 */
export function DataSettings() {
  const store = useAppStore();
  const info = useAppState((s) => s.info);
  const [list, setList] = useState<BackupList | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const [busy, setBusy] = useState<'export' | 'import' | 'backup' | 'cancel' | null>(null);
  const [conversationsNote, setConversationsNote] = useState<{ tone: 'ok' | 'error'; text: string } | null>(null);
  const [backupNote, setBackupNote] = useState<{ tone: 'ok' | 'error'; text: string } | null>(null);
  const [confirm, setConfirm] = useState<BackupInfo | null>(null);
  const [restoring, setRestoring] = useState(false);
  const [restoreError, setRestoreError] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const cancelButton = useRef<HTMLButtonElement>(null);
  const id = useId();

  const refresh = async () => {
    const result = await store.listBackups();
    if (result.ok) {
      setList(result.value);
      setListError(null);
    } else {
      setListError(describeError(result.error));
    }
  };
  useEffect(() => {
    void refresh();
  }, []);

  const exportAll = async () => {
    setBusy('export');
    setConversationsNote(null);
    const result = await store.exportHistory('json');
    setBusy(null);
    if (!result.ok) {
      setConversationsNote({ tone: 'error', text: describeError(result.error) });
      return;
    }
    downloadText(result.value.fileName, result.value.text, result.value.mimeType);
  };

  const importFile = async (file: File) => {
    setConversationsNote(null);
    // Checked here too, so a huge file is never read into memory (the backend takes at most this many characters).
    if (file.size > 4 * maxArchiveTextChars) {
      setConversationsNote({ tone: 'error', text: `“${file.name}” is too large to import (${formatBytes(file.size)}).` });
      return;
    }
    setBusy('import');
    let text: string;
    try {
      text = await file.text();
    } catch {
      setBusy(null);
      setConversationsNote({ tone: 'error', text: `“${file.name}” could not be read.` });
      return;
    }
    const result = await store.importHistory(text);
    setBusy(null);
    setConversationsNote(
      result.ok
        ? { tone: 'ok', text: importSentence(result.value) }
        : { tone: 'error', text: result.error.code === 'BAD_INPUT' ? `“${file.name}” ${result.error.message.replace(/^This file /, '')}.` : describeError(result.error) },
    );
  };

  const backUp = async () => {
    setBusy('backup');
    setBackupNote(null);
    const result = await store.createBackup();
    setBusy(null);
    if (!result.ok) {
      setBackupNote({ tone: 'error', text: describeError(result.error) });
      return;
    }
    setBackupNote({ tone: 'ok', text: `Backed up (${formatBytes(result.value.bytes)}).` });
    await refresh();
  };

  const restore = async () => {
    if (!confirm) return;
    setRestoring(true);
    setRestoreError(null);
    const result = await store.restoreBackup(confirm.name);
    setRestoring(false);
    if (!result.ok) {
      setRestoreError(describeError(result.error));
      return;
    }
    setConfirm(null);
    await refresh();
    // The row's Restore… button is gone: focus goes to the banner's Cancel restore.
    requestAnimationFrame(() => cancelButton.current?.focus());
  };

  const cancelRestore = async () => {
    setBusy('cancel');
    const result = await store.cancelRestore();
    setBusy(null);
    if (!result.ok) setBackupNote({ tone: 'error', text: describeError(result.error) });
    await refresh();
  };

  const pending = list?.pendingRestore ? (list.backups.find((b) => b.name === list.pendingRestore) ?? null) : null;
  const last = list?.lastRestore && Date.now() - list.lastRestore.at < OUTCOME_SHOWN_MS ? list.lastRestore : null;
  const restartHint = info?.transport === 'http' ? 'Stop npm run web and start it again to finish restoring.' : 'Restart Wattwise to finish restoring.';
  const f = (name: string) => `${id}-data-${name}`;

  return (
    <section className="settings__section data-settings" aria-labelledby={f('heading')} data-testid="data-settings">
      <h3 className="settings__heading" id={f('heading')}>
        Data
      </h3>
      <p className="settings__intro">
        Conversations, settings and measurements are kept on this computer in{' '}
        <code className="path" title={info?.dataDir}>
          {info?.dataDir ?? 'the data folder'}
        </code>
        .
      </p>

      <div className="field">
        <span className="field__label" id={f('conversations')}>
          Conversations
        </span>
        <div className="field__control">
          <div className="data-settings__actions" role="group" aria-labelledby={f('conversations')}>
            <button type="button" className="button button--ghost button--small" data-testid="export-all" disabled={busy !== null} onClick={() => void exportAll()}>
              <IconDownload size={14} />
              {busy === 'export' ? 'Exporting…' : 'Export all (JSON)'}
            </button>
            <button
              type="button"
              className="button button--ghost button--small"
              data-testid="import-button"
              aria-describedby={f('import-hint')}
              disabled={busy !== null}
              onClick={() => fileInput.current?.click()}
            >
              <IconUpload size={14} />
              {busy === 'import' ? 'Importing…' : 'Import…'}
            </button>
            <input
              ref={fileInput}
              type="file"
              accept=".json,application/json"
              className="visually-hidden"
              tabIndex={-1}
              aria-hidden="true"
              aria-label="Exported JSON file to import"
              data-testid="import-file"
              onChange={(e) => {
                const file = e.currentTarget.files?.[0];
                e.currentTarget.value = '';
                if (file) void importFile(file);
              }}
            />
          </div>
          <div aria-live="polite">
            {conversationsNote ? (
              <p className={`data-settings__note is-${conversationsNote.tone}`} role={conversationsNote.tone === 'error' ? 'alert' : 'status'} data-testid="import-result">
                {conversationsNote.tone === 'ok' ? <IconCheck size={14} /> : <IconAlert size={14} />}
                <span>{conversationsNote.text}</span>
              </p>
            ) : (
              <p className="field__hint" id={f('import-hint')}>
                Import reads a JSON export of Wattwise. Conversations already here are kept; copies get new ids.
              </p>
            )}
          </div>
        </div>
      </div>

      <div className="field">
        <span className="field__label" id={f('backups')}>
          Backups
        </span>
        <div className="field__control">
          <div className="data-settings__actions">
            <button type="button" className="button button--ghost button--small" data-testid="backup-now" disabled={busy !== null} onClick={() => void backUp()}>
              <IconHardDrive size={14} />
              {busy === 'backup' ? 'Backing up…' : 'Back up now'}
            </button>
          </div>
          <div aria-live="polite">
            {backupNote && (
              <p className={`data-settings__note is-${backupNote.tone}`} role={backupNote.tone === 'error' ? 'alert' : 'status'} data-testid="backup-result">
                {backupNote.tone === 'ok' ? <IconCheck size={14} /> : <IconAlert size={14} />}
                <span>{backupNote.text}</span>
              </p>
            )}
          </div>
          <p className="field__hint">
            A copy of the whole database, made while Wattwise keeps running, in <code className="path">{list?.folder ?? 'the backups folder'}</code>.
          </p>

          {pending && (
            <div className="data-settings__banner is-pending" role="status" data-testid="restore-pending">
              <IconRefresh size={16} className="data-settings__banner-icon" />
              <div className="data-settings__banner-text">
                <strong>{restartHint}</strong> The backup of {backupDate(pending)} will replace the current data when Wattwise starts; the current database
                is kept beside it.
              </div>
              <button ref={cancelButton} type="button" className="button button--ghost button--small" data-testid="restore-cancel" disabled={busy !== null} onClick={() => void cancelRestore()}>
                Cancel restore
              </button>
            </div>
          )}
          {last && !pending && (
            <p className={`data-settings__note is-${last.state === 'restored' ? 'ok' : 'error'}`} data-testid="restore-outcome">
              {last.state === 'restored' ? <IconCheck size={14} /> : <IconAlert size={14} />}
              <span>
                {last.state === 'restored' ? `Restored the backup on ${fullTime(last.at)}: ${last.detail}.` : `The restore on ${fullTime(last.at)} was refused: ${last.detail}.`}
              </span>
            </p>
          )}

          {listError ? (
            <p className="field__error" role="alert">
              {listError}
            </p>
          ) : list && list.backups.length === 0 ? (
            <p className="data-settings__empty" data-testid="backup-empty">
              No backups yet.
            </p>
          ) : list ? (
            <ul className="data-settings__backups" aria-label="Backups" data-testid="backup-list">
              {list.backups.map((backup) => (
                <li key={backup.name} className={`data-settings__backup${backup.name === list.pendingRestore ? ' is-pending' : ''}`} data-testid="backup-row" data-name={backup.name}>
                  <div className="data-settings__backup-text">
                    <span className="data-settings__backup-date">{backupDate(backup)}</span>
                    <span className="data-settings__backup-meta">
                      {formatBytes(backup.bytes)}
                      {backup.name === list.pendingRestore && <span className="data-settings__tag">Restores at next start</span>}
                    </span>
                  </div>
                  {backup.name !== list.pendingRestore && (
                    <button
                      type="button"
                      className="button button--ghost button--small"
                      aria-label={`Restore the backup of ${backupDate(backup)}`}
                      data-testid="backup-restore"
                      disabled={busy !== null}
                      onClick={() => {
                        setRestoreError(null);
                        setConfirm(backup);
                      }}
                    >
                      Restore…
                    </button>
                  )}
                </li>
              ))}
            </ul>
          ) : null}
        </div>
      </div>

      <Dialog
        open={confirm !== null}
        onClose={() => !restoring && setConfirm(null)}
        title="Restore this backup?"
        testId="restore-dialog"
        description={
          confirm && (
            <>
              The backup of <strong>{backupDate(confirm)}</strong> ({formatBytes(confirm.bytes)}) will replace all conversations, settings and measurements
              the next time Wattwise starts. The current database is kept beside it, so nothing is lost.
            </>
          )
        }
        footer={
          <>
            {restoreError && (
              <p className="dialog__error" role="alert">
                {restoreError}
              </p>
            )}
            <button type="button" className="button button--ghost" disabled={restoring} onClick={() => setConfirm(null)}>
              Cancel
            </button>
            <button type="button" className="button button--primary" data-testid="restore-confirm" disabled={restoring} onClick={() => void restore()}>
              {restoring ? 'Checking the backup…' : 'Restore at next start'}
            </button>
          </>
        }
      />
    </section>
  );
}
