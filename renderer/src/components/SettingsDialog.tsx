import { useEffect, useId, useState, type ReactNode } from 'react';
import { settingsSchema, type ExternalModelSource, type Settings, type Theme } from '@shared/contract';
import { describeError } from '../api/errors';
import { baseName } from '../lib/format';
import { EXTERNAL_SOURCES, sourceName } from '../lib/library';
import { useAppState, useAppStore } from '../state/context';
import { effectiveModel } from '../state/store';
import { Dialog } from './Dialog';
import { ContextOverflowField } from './settings/ContextOverflowField';
import { IdleUnloadField } from './settings/IdleUnloadField';
import { PresetsSettings } from './settings/PresetsSettings';
import { ApiSettings, fromApiForm, toApiForm, type ApiErrors, type ApiForm } from './settings/ApiSettings';
import { DataSettings } from './settings/DataSettings';

interface Form {
  modelsDir: string;
  contextSize: string;
  threadsMode: 'auto' | 'manual';
  threads: string;
  maxReplyTokens: string;
  theme: Theme;
  defaultSystemPrompt: string;
  modelSources: Settings['modelSources'];
  /** Settings → Local API (the switch and the key act at once; these are saved with Save). */
  api: ApiForm;
  idleUnload: Settings['idleUnload'];
  contextOverflow: Settings['contextOverflow'];
}

type Field = 'modelsDir' | 'contextSize' | 'threads' | 'maxReplyTokens' | 'theme' | 'defaultSystemPrompt';
type Errors = Partial<Record<Field | 'form', string>> & ApiErrors;

function toForm(settings: Settings): Form {
  return {
    modelsDir: settings.modelsDir ?? '',
    contextSize: String(settings.contextSize),
    threadsMode: settings.threads === null ? 'auto' : 'manual',
    threads: settings.threads === null ? '' : String(settings.threads),
    maxReplyTokens: String(settings.maxReplyTokens),
    theme: settings.theme,
    defaultSystemPrompt: settings.defaultSystemPrompt,
    modelSources: { ...settings.modelSources },
    api: toApiForm(settings.api),
    idleUnload: { ...settings.idleUnload },
    contextOverflow: settings.contextOverflow,
  };
}

function whole(text: string): number {
  return /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
}

/**
 * Validates the form with the contract's own schema; returns the patch or per-field errors. `current` is
 * the stored settings: the local API's switch and key come from there (they are saved at once).
 */
function toPatch(form: Form, current: Settings): { patch: Partial<Settings> } | { errors: Errors } {
  const api = fromApiForm(form.api, current.api);
  const candidate = {
    modelsDir: form.modelsDir.trim() ? form.modelsDir.trim() : null,
    contextSize: whole(form.contextSize),
    threads: form.threadsMode === 'auto' ? null : whole(form.threads),
    maxReplyTokens: whole(form.maxReplyTokens),
    theme: form.theme,
    defaultSystemPrompt: form.defaultSystemPrompt,
    modelSources: form.modelSources,
    api: 'api' in api ? api.api : current.api,
    idleUnload: form.idleUnload,
    contextOverflow: form.contextOverflow,
  };
  const errors: Errors = 'errors' in api ? { ...api.errors } : {};
  const shape = settingsSchema.shape;
  const check = (field: Field, result: { success: boolean; error?: { issues: { message: string }[] } }, friendly: string) => {
    if (!result.success) errors[field] = friendly;
  };
  check('modelsDir', shape.modelsDir.safeParse(candidate.modelsDir), 'Enter a folder path (up to 4096 characters), or leave it empty for the default.');
  check('contextSize', shape.contextSize.safeParse(candidate.contextSize), 'A whole number of tokens from 128 to 131072.');
  check('threads', shape.threads.safeParse(candidate.threads), 'A whole number of threads from 1 to 256.');
  check('maxReplyTokens', shape.maxReplyTokens.safeParse(candidate.maxReplyTokens), 'A whole number of tokens from 1 to 32768.');
  check('defaultSystemPrompt', shape.defaultSystemPrompt.safeParse(candidate.defaultSystemPrompt), 'At most 20,000 characters.');
  if (Object.keys(errors).length) return { errors };
  return { patch: candidate };
}

/** A labelled form row with its hint, or its error in place of the hint. */
export function FieldRow({ label, htmlFor, hint, error, children }: { label: string; htmlFor: string; hint?: ReactNode; error?: string; children: ReactNode }) {
  return (
    <div className={`field${error ? ' has-error' : ''}`}>
      <label className="field__label" htmlFor={htmlFor}>
        {label}
      </label>
      <div className="field__control">
        {children}
        {error ? (
          <p className="field__error" id={`${htmlFor}-error`} role="alert">
            {error}
          </p>
        ) : hint ? (
          <p className="field__hint">{hint}</p>
        ) : null}
      </div>
    </div>
  );
}

export function SettingsDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const store = useAppStore();
  const settings = useAppState((s) => s.settings);
  const info = useAppState((s) => s.info);
  const calibrations = useAppState((s) => s.calibrations);
  const library = useAppState((s) => s.library.status);
  const model = useAppState(effectiveModel);
  const [form, setForm] = useState<Form | null>(null);
  const [errors, setErrors] = useState<Errors>({});
  const [saving, setSaving] = useState(false);
  const id = useId();

  useEffect(() => {
    if (open && settings) {
      setForm(toForm(settings));
      setErrors({});
      void store.loadCalibrations();
      void store.refreshLibraryStatus();
      void store.refreshApiStatus();
    }
    // Only when the dialog opens: later settings changes must not wipe what the user typed.
  }, [open]);

  const set = <K extends keyof Form>(key: K, value: Form[K]) => {
    setForm((f) => (f ? { ...f, [key]: value } : f));
    setErrors((e) => ({ ...e, [key === 'threadsMode' ? 'threads' : key]: undefined, form: undefined }));
  };

  const calibration = model ? calibrations?.find((c) => c.modelPath === model.path) : undefined;
  const autoLabel = calibration
    ? `Auto (measured: ${calibration.bestThreads} for ${model ? model.name : baseName(calibration.modelPath)})`
    : model
      ? `Auto (measured the first time ${model.name} loads)`
      : 'Auto (measured for each model)';

  const save = async () => {
    if (!form || !settings) return;
    const checked = toPatch(form, settings);
    if ('errors' in checked) {
      setErrors(checked.errors);
      // The dialog scrolls: bring the first wrong field into view (the Local API's are far down).
      requestAnimationFrame(() => document.querySelector<HTMLElement>('.settings [aria-invalid="true"]')?.focus());
      return;
    }
    // Send only what changed.
    const patch: Partial<Settings> = {};
    for (const [key, value] of Object.entries(checked.patch) as [keyof Settings, unknown][]) {
      const same = typeof value === 'object' && value !== null ? JSON.stringify(settings[key]) === JSON.stringify(value) : settings[key] === value;
      if (!same) (patch as Record<string, unknown>)[key] = value;
    }
    if (Object.keys(patch).length === 0) {
      onClose();
      return;
    }
    setSaving(true);
    const result = await store.saveSettings(patch);
    if (result.ok && patch.api && result.value.api.enabled) {
      // A new port restarts the server: stay open when it could not start, so the reason is seen.
      await store.refreshApiStatus();
      setSaving(false);
      if (store.getState().apiStatus?.state === 'error') return;
      onClose();
      return;
    }
    setSaving(false);
    if (result.ok) {
      onClose();
      return;
    }
    const message = describeError(result.error);
    const lower = result.error.message.toLowerCase();
    const field = (['modelsDir', 'contextSize', 'threads', 'maxReplyTokens', 'defaultSystemPrompt'] as Field[]).find((f) => lower.includes(f.toLowerCase()));
    setErrors(field ? { [field]: message } : { form: message });
  };

  const f = (name: string) => `${id}-${name}`;
  const setSource = (source: ExternalModelSource, on: boolean) => setForm((v) => (v ? { ...v, modelSources: { ...v.modelSources, [source]: on } } : v));
  const setApi = <K extends keyof ApiForm>(key: K, value: ApiForm[K]) => {
    setForm((v) => (v ? { ...v, api: { ...v.api, [key]: value } } : v));
    const field = key === 'port' ? 'apiPort' : key === 'allowedOrigins' ? 'apiOrigins' : null;
    setErrors((e) => ({ ...e, ...(field ? { [field]: undefined } : {}), form: undefined }));
  };

  return (
    <Dialog
      open={open}
      onClose={onClose}
      size="large"
      title="Settings"
      testId="settings-dialog"
      footer={
        <>
          {errors.form && (
            <p className="dialog__error" role="alert">
              {errors.form}
            </p>
          )}
          {info && (
            <p className="settings__about" title={`Data: ${info.dataDir}`}>
              Wattwise {info.version} · {info.transport === 'http' ? 'browser mode' : 'desktop app'} · {info.platform}
            </p>
          )}
          <button type="button" className="button button--ghost" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form={f('form')} className="button button--primary" data-testid="save-settings" disabled={saving || !form}>
            {saving ? 'Saving…' : 'Save'}
          </button>
        </>
      }
    >
      {form && (
        <form
          id={f('form')}
          className="settings"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            void save();
          }}
        >
          <section className="settings__section">
            <h3 className="settings__heading">Models</h3>
            <FieldRow
              label="Models folder"
              htmlFor={f('modelsDir')}
              error={errors.modelsDir}
              hint={
                <>
                  In use: <code className="path">{info?.modelsDir ?? '—'}</code>. Leave empty for the default.
                </>
              }
            >
              <input
                id={f('modelsDir')}
                className="input input--mono"
                value={form.modelsDir}
                placeholder={info?.modelsDir ?? 'Default folder'}
                spellCheck={false}
                aria-invalid={errors.modelsDir ? true : undefined}
                onChange={(e) => set('modelsDir', e.target.value)}
              />
            </FieldRow>
            <div className="field">
              <span className="field__label" id={f('sources')}>
                Use models from other apps
              </span>
              <div className="field__control">
                <ul className="source-toggles" aria-labelledby={f('sources')} data-testid="model-sources">
                  {EXTERNAL_SOURCES.map((source) => {
                    const found = library?.sources.find((s) => s.source === source);
                    const inputId = f(`source-${source}`);
                    return (
                      <li key={source} className="source-toggle">
                        <label className="gov-check" htmlFor={inputId}>
                          <input
                            id={inputId}
                            type="checkbox"
                            data-testid="model-source-toggle"
                            data-source={source}
                            checked={form.modelSources[source]}
                            aria-describedby={found ? `${inputId}-folders` : undefined}
                            onChange={(e) => setSource(source, e.target.checked)}
                          />
                          {sourceName(source)}
                          {found && found.enabled && (
                            <span className={`source-toggle__found${found.found === 0 ? ' is-none' : ''}`}>
                              {found.found === 0 ? 'none found' : `${found.found} ${found.found === 1 ? 'model' : 'models'}`}
                            </span>
                          )}
                        </label>
                        {found && found.folders.length > 0 && (
                          <ul className="source-toggle__folders" id={`${inputId}-folders`} aria-label={`Folders ${sourceName(source)} is looked for in`}>
                            {found.folders.map((folder) => (
                              <li key={folder} className="source-toggle__folder" title={folder}>
                                <bdi>{folder}</bdi>
                              </li>
                            ))}
                          </ul>
                        )}
                      </li>
                    );
                  })}
                </ul>
                <p className="field__hint">Their models are read where they are; Wattwise never changes or deletes them.</p>
              </div>
            </div>
          </section>

          <section className="settings__section">
            <h3 className="settings__heading">Generation</h3>
            <FieldRow label="Context size" htmlFor={f('contextSize')} error={errors.contextSize} hint="Tokens the model keeps in view. Larger uses more memory.">
              <div className="input-unit">
                <input
                  id={f('contextSize')}
                  className="input"
                  inputMode="numeric"
                  value={form.contextSize}
                  aria-invalid={errors.contextSize ? true : undefined}
                  onChange={(e) => set('contextSize', e.target.value)}
                />
                <span>tokens</span>
              </div>
            </FieldRow>
            <ContextOverflowField id={f('contextOverflow')} value={form.contextOverflow} onChange={(v) => set('contextOverflow', v)} />
            <FieldRow label="Max reply length" htmlFor={f('maxReplyTokens')} error={errors.maxReplyTokens} hint="Replies stop after this many tokens.">
              <div className="input-unit">
                <input
                  id={f('maxReplyTokens')}
                  className="input"
                  inputMode="numeric"
                  value={form.maxReplyTokens}
                  aria-invalid={errors.maxReplyTokens ? true : undefined}
                  onChange={(e) => set('maxReplyTokens', e.target.value)}
                />
                <span>tokens</span>
              </div>
            </FieldRow>
            <IdleUnloadField id={f('idleUnload')} value={form.idleUnload} onChange={(v) => set('idleUnload', v)} />
            <FieldRow
              label="CPU threads"
              htmlFor={f('threadsMode')}
              error={errors.threads}
              hint={info ? `This computer has ${info.physicalCores} physical cores.` : undefined}
            >
              <div className="threads">
                <select
                  id={f('threadsMode')}
                  className="input select"
                  value={form.threadsMode}
                  onChange={(e) => {
                    const mode = e.target.value === 'manual' ? 'manual' : 'auto';
                    set('threadsMode', mode);
                    if (mode === 'manual' && !form.threads) set('threads', String(calibration?.bestThreads ?? info?.physicalCores ?? 4));
                  }}
                >
                  <option value="auto">{autoLabel}</option>
                  <option value="manual">Fixed number</option>
                </select>
                {form.threadsMode === 'manual' && (
                  <input
                    className="input input--narrow"
                    inputMode="numeric"
                    aria-label="Number of threads"
                    value={form.threads}
                    aria-invalid={errors.threads ? true : undefined}
                    onChange={(e) => set('threads', e.target.value)}
                  />
                )}
              </div>
            </FieldRow>
            <FieldRow label="Default system prompt" htmlFor={f('defaultSystemPrompt')} error={errors.defaultSystemPrompt} hint="Default and every preset without a prompt of its own use it. Change it for one chat in the chat header’s preset panel.">
              <textarea
                id={f('defaultSystemPrompt')}
                className="input textarea"
                rows={3}
                value={form.defaultSystemPrompt}
                aria-invalid={errors.defaultSystemPrompt ? true : undefined}
                onChange={(e) => set('defaultSystemPrompt', e.target.value)}
              />
            </FieldRow>
          </section>

          {settings && <PresetsSettings settings={settings} />}

          <section className="settings__section">
            <h3 className="settings__heading">Appearance</h3>
            <div className="field">
              <span className="field__label" id={f('theme')}>
                Theme
              </span>
              <div className="field__control">
                <div className="segmented" role="radiogroup" aria-labelledby={f('theme')}>
                  {(['light', 'dark', 'system'] as const).map((theme) => (
                    <label key={theme} className={`segmented__item${form.theme === theme ? ' is-active' : ''}`}>
                      <input type="radio" name={f('theme-radio')} value={theme} checked={form.theme === theme} onChange={() => set('theme', theme)} />
                      {theme === 'system' ? 'System' : theme === 'light' ? 'Light' : 'Dark'}
                    </label>
                  ))}
                </div>
              </div>
            </div>
          </section>

          <ApiSettings form={form.api} errors={errors} idPrefix={id} onChange={setApi} onErrors={(e) => setErrors((v) => ({ ...v, ...e }))} />
          <DataSettings />
        </form>
      )}
    </Dialog>
  );
}
