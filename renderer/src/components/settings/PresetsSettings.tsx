import { useEffect, useState } from 'react';
import { createPortal } from 'react-dom';
import type { Preset, PresetFields, PresetSettingsBase } from '@shared/presets';
import { describeError } from '../../api/errors';
import { presetsStore, usePresetsState } from '../../state/presets';
import { Dialog } from '../Dialog';
import { IconCopy, IconPencil, IconPlus, IconTrash } from '../Icons';
import { PresetEditorDialog, type EditorTarget } from '../presets/PresetEditorDialog';
import { presetPurpose, presetSummary } from '../presets/presetFields';

/** `wanted`, or `wanted 2`, `wanted 3`… : the first name no preset has yet (case ignored, as the backend does). */
function uniqueName(wanted: string, presets: readonly Preset[]): string {
  const taken = new Set(presets.map((p) => p.name.toLocaleLowerCase()));
  const base = wanted.slice(0, 56);
  let candidate = base;
  for (let n = 2; taken.has(candidate.toLocaleLowerCase()); n++) candidate = `${base} ${n}`;
  return candidate;
}

/** A preset's fields (what the editor starts from). */
function fieldsOf(preset: Preset, name = preset.name): PresetFields {
  const { id: _id, builtIn: _builtIn, ...fields } = preset;
  return { ...fields, name };
}

/**
 * Settings → Presets: every preset with its sampling in one line; the user's can be edited and deleted
 * (with a confirmation), any can be duplicated into a new one, and "New preset" starts from Default.
 * Changes are saved at once (not with the Settings dialog's Save).
 */
export function PresetsSettings({ settings }: { settings: PresetSettingsBase }) {
  const presets = usePresetsState((s) => s.presets);
  const listError = usePresetsState((s) => s.error);
  const [editing, setEditing] = useState<EditorTarget | null>(null);
  const [deleting, setDeleting] = useState<Preset | null>(null);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    void presetsStore.refresh();
  }, []);

  const all = presets ?? [];
  const startNew = () => {
    const base = all.find((p) => p.id === 'default');
    if (base) setEditing({ id: null, fields: fieldsOf(base, uniqueName('My preset', all)) });
  };

  const confirmDelete = async () => {
    if (!deleting) return;
    setBusy(true);
    const result = await presetsStore.remove(deleting.id);
    setBusy(false);
    if (result.ok) {
      setDeleting(null);
      setDeleteError(null);
    } else {
      setDeleteError(describeError(result.error));
    }
  };

  return (
    <section className="settings__section presets-settings" aria-labelledby="presets-heading" data-testid="presets-settings">
      <h3 className="settings__heading" id="presets-heading">
        Presets
      </h3>
      <div className="presets-settings__bar">
        <p className="settings__intro">A system prompt and sampling for a kind of chat. Pick one for each chat in its header.</p>
        <button type="button" className="button button--ghost button--small" data-testid="new-preset" disabled={presets === null} onClick={startNew}>
          <IconPlus size={13} />
          New preset
        </button>
      </div>
      {listError && <p className="presets-settings__error">{describeError(listError)}</p>}
      <ul className="preset-rows" aria-label="Presets">
        {all.map((preset) => {
          const purpose = presetPurpose(preset);
          return (
            <li key={preset.id} className="preset-row" data-testid="preset-row" data-preset-id={preset.id}>
              <div className="preset-row__text">
                <div className="preset-row__name">
                  <span>{preset.name}</span>
                  {preset.builtIn && <span className="preset-option__tag">Built-in</span>}
                  {purpose && <span className="preset-option__purpose">{purpose}</span>}
                </div>
                <div className="preset-row__summary" title={presetSummary(preset)}>
                  {presetSummary(preset)}
                </div>
              </div>
              <div className="preset-row__actions">
                <button
                  type="button"
                  className="icon-button icon-button--small"
                  aria-label={`Duplicate ${preset.name}`}
                  title="Duplicate"
                  data-testid="duplicate-preset"
                  onClick={() => setEditing({ id: null, fields: fieldsOf(preset, uniqueName(`Copy of ${preset.name}`, all)) })}
                >
                  <IconCopy size={14} />
                </button>
                {!preset.builtIn && (
                  <>
                    <button
                      type="button"
                      className="icon-button icon-button--small"
                      aria-label={`Edit ${preset.name}`}
                      title="Edit"
                      data-testid="edit-preset"
                      onClick={() => setEditing({ id: preset.id, fields: fieldsOf(preset) })}
                    >
                      <IconPencil size={14} />
                    </button>
                    <button
                      type="button"
                      className="icon-button icon-button--small icon-button--danger"
                      aria-label={`Delete ${preset.name}`}
                      title="Delete"
                      data-testid="delete-preset"
                      onClick={() => {
                        setDeleteError(null);
                        setDeleting(preset);
                      }}
                    >
                      <IconTrash size={14} />
                    </button>
                  </>
                )}
              </div>
            </li>
          );
        })}
      </ul>

      <PresetEditorDialog target={editing} settings={settings} onClose={() => setEditing(null)} />
      {createPortal(
        <Dialog
          open={deleting !== null}
          onClose={() => setDeleting(null)}
          title={`Delete “${deleting?.name ?? ''}”?`}
          description="Chats that use it go back to Default; their own changes are kept. This cannot be undone."
          testId="delete-preset-dialog"
          footer={
            <>
              {deleteError && (
                <p className="dialog__error" role="alert">
                  {deleteError}
                </p>
              )}
              <button type="button" className="button button--ghost" onClick={() => setDeleting(null)}>
                Cancel
              </button>
              <button type="button" className="button button--danger" data-testid="confirm-delete-preset" disabled={busy} onClick={() => void confirmDelete()}>
                {busy ? 'Deleting…' : 'Delete preset'}
              </button>
            </>
          }
        />,
        document.body,
      )}
    </section>
  );
}
