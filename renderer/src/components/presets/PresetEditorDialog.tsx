import { useEffect, useId, useState, type ReactNode } from 'react';
import { createPortal } from 'react-dom';
import { presetNameSchema, systemPromptSchema, type Preset, type PresetFields, type PresetSettingsBase } from '@shared/presets';
import { describeError } from '../../api/errors';
import { presetsStore } from '../../state/presets';
import { Dialog } from '../Dialog';
import { fieldMeta, formatNumber, parseNumber, type NumericField } from './presetFields';

/** What the editor starts from: a preset to edit (`id` set) or the values of a new one. */
export interface EditorTarget {
  /** The user preset being edited; null creates a new one. */
  id: string | null;
  fields: PresetFields;
}

interface Form {
  name: string;
  /** Null = Settings' default system prompt. */
  systemPrompt: string | null;
  numbers: Record<NumericField, string>;
  /** Reply length and context size follow Settings (stored as null). */
  followSettings: { maxReplyTokens: boolean; contextSize: boolean };
}

type Errors = Partial<Record<NumericField | 'name' | 'systemPrompt' | 'form', string>>;

function toForm(fields: PresetFields, settings: PresetSettingsBase): Form {
  return {
    name: fields.name,
    systemPrompt: fields.systemPrompt,
    numbers: {
      temperature: formatNumber(fields.temperature),
      topP: formatNumber(fields.topP),
      minP: formatNumber(fields.minP),
      topK: formatNumber(fields.topK),
      repeatPenalty: formatNumber(fields.repeatPenalty),
      seed: formatNumber(fields.seed),
      maxReplyTokens: formatNumber(fields.maxReplyTokens ?? settings.maxReplyTokens),
      contextSize: formatNumber(fields.contextSize ?? settings.contextSize),
    },
    followSettings: { maxReplyTokens: fields.maxReplyTokens === null, contextSize: fields.contextSize === null },
  };
}

/** Checks the form with the shared schemas; returns the fields or an error per field. */
function toFields(form: Form): { fields: PresetFields } | { errors: Errors } {
  const errors: Errors = {};
  const name = presetNameSchema.safeParse(form.name);
  if (!name.success) errors.name = form.name.trim() === '' ? 'Give the preset a name.' : 'At most 60 characters.';
  if (form.systemPrompt !== null && !systemPromptSchema.safeParse(form.systemPrompt).success) errors.systemPrompt = 'At most 20,000 characters.';
  const numbers: Partial<Record<NumericField, number | null>> = {};
  for (const field of Object.keys(form.numbers) as NumericField[]) {
    if ((field === 'maxReplyTokens' || field === 'contextSize') && form.followSettings[field]) {
      numbers[field] = null;
      continue;
    }
    const parsed = parseNumber(field, form.numbers[field]);
    if (parsed.ok) numbers[field] = parsed.value;
    else errors[field] = parsed.error;
  }
  if (Object.keys(errors).length > 0 || !name.success) return { errors };
  return {
    fields: {
      name: name.data,
      systemPrompt: form.systemPrompt,
      temperature: numbers.temperature as number,
      topP: numbers.topP as number,
      minP: numbers.minP as number,
      topK: numbers.topK as number,
      repeatPenalty: numbers.repeatPenalty as number,
      seed: numbers.seed ?? null,
      maxReplyTokens: numbers.maxReplyTokens ?? null,
      contextSize: numbers.contextSize ?? null,
    },
  };
}

/** One labelled control of the editor, with its hint or its error; `aside` sits at the end of the label row. */
function EditorField({ id, label, hint, error, aside, children }: { id: string; label: string; hint?: ReactNode; error?: string; aside?: ReactNode; children: ReactNode }) {
  return (
    <div className="preset-editor__field">
      <div className="preset-editor__head">
        <label className="preset-editor__label" htmlFor={id}>
          {label}
        </label>
        {aside}
      </div>
      {children}
      {error ? (
        <p className="preset-editor__error" id={`${id}-note`} role="alert">
          {error}
        </p>
      ) : hint ? (
        <p className="preset-editor__hint" id={`${id}-note`}>
          {hint}
        </p>
      ) : null}
    </div>
  );
}

/**
 * Creates or edits a user preset: name, system prompt (or Settings' default), sampling, seed, and reply
 * length and context size (or Settings'). Rendered over Settings in its own layer (a portal), so its form is
 * not inside the Settings form.
 */
export function PresetEditorDialog({ target, settings, onClose }: { target: EditorTarget | null; settings: PresetSettingsBase; onClose: (saved: Preset | null) => void }) {
  const id = useId();
  const [form, setForm] = useState<Form | null>(null);
  const [errors, setErrors] = useState<Errors>({});
  const [saving, setSaving] = useState(false);

  useEffect(() => {
    if (target) {
      setForm(toForm(target.fields, settings));
      setErrors({});
    }
  }, [target]);

  const f = (name: string) => `${id}-${name}`;
  const setNumber = (field: NumericField, value: string) => {
    setForm((v) => (v ? { ...v, numbers: { ...v.numbers, [field]: value } } : v));
    setErrors((e) => ({ ...e, [field]: undefined, form: undefined }));
  };

  const save = async () => {
    if (!form || !target) return;
    const checked = toFields(form);
    if ('errors' in checked) {
      setErrors(checked.errors);
      requestAnimationFrame(() => document.querySelector<HTMLElement>('.preset-editor [aria-invalid="true"]')?.focus());
      return;
    }
    setSaving(true);
    const result = target.id ? await presetsStore.update(target.id, checked.fields) : await presetsStore.create(checked.fields);
    setSaving(false);
    if (result.ok) {
      onClose(result.value);
      return;
    }
    const message = describeError(result.error);
    setErrors(/already exists|name/i.test(result.error.message) ? { name: message } : { form: message });
  };

  const numberInput = (field: NumericField, disabled = false) => (
    <div className="preset-editor__input-row">
      <input
        id={f(field)}
        className="input"
        inputMode={fieldMeta[field].integer ? 'numeric' : 'decimal'}
        autoComplete="off"
        value={form?.numbers[field] ?? ''}
        placeholder={field === 'seed' ? 'Random' : undefined}
        disabled={disabled}
        aria-invalid={errors[field] ? true : undefined}
        aria-describedby={`${f(field)}-note`}
        data-testid={`preset-editor-${field}`}
        onChange={(e) => setNumber(field, e.target.value)}
      />
      {fieldMeta[field].unit && <span>{fieldMeta[field].unit}</span>}
    </div>
  );

  const followToggle = (field: 'maxReplyTokens' | 'contextSize') => (
    <label className="preset-editor__follow">
      <input
        type="checkbox"
        checked={form?.followSettings[field] ?? false}
        data-testid={`preset-editor-follow-${field}`}
        onChange={(e) => {
          const on = e.target.checked;
          setForm((v) => (v ? { ...v, followSettings: { ...v.followSettings, [field]: on }, numbers: on ? { ...v.numbers, [field]: formatNumber(settings[field]) } : v.numbers } : v));
          setErrors((x) => ({ ...x, [field]: undefined }));
        }}
      />
      Use Settings ({settings[field]})
    </label>
  );

  const dialog = (
    <Dialog
      open={target !== null}
      onClose={() => onClose(null)}
      title={target?.id ? 'Edit preset' : 'New preset'}
      size="large"
      testId="preset-editor"
      footer={
        <>
          {errors.form && (
            <p className="dialog__error" role="alert">
              {errors.form}
            </p>
          )}
          <button type="button" className="button button--ghost" onClick={() => onClose(null)}>
            Cancel
          </button>
          <button type="submit" form={f('form')} className="button button--primary" data-testid="preset-editor-save" disabled={saving || !form}>
            {saving ? 'Saving…' : target?.id ? 'Save' : 'Create preset'}
          </button>
        </>
      }
    >
      {form && (
        <form
          id={f('form')}
          className="preset-editor"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            // React carries events through portals: the Settings form around this one must not see it.
            e.stopPropagation();
            void save();
          }}
        >
          <EditorField id={f('name')} label="Name" error={errors.name}>
            <input
              id={f('name')}
              className="input"
              value={form.name}
              maxLength={60}
              autoComplete="off"
              aria-invalid={errors.name ? true : undefined}
              aria-describedby={errors.name ? `${f('name')}-note` : undefined}
              data-testid="preset-editor-name"
              onChange={(e) => {
                const name = e.target.value;
                setForm((v) => (v ? { ...v, name } : v));
                setErrors((x) => ({ ...x, name: undefined, form: undefined }));
              }}
            />
          </EditorField>
          <EditorField
            id={f('systemPrompt')}
            label="System prompt"
            error={errors.systemPrompt}
            hint={form.systemPrompt === null ? 'Uses the default system prompt from Settings (it follows changes there).' : fieldMeta.systemPrompt.hint}
            aside={
              <label className="preset-editor__follow">
                <input
                  type="checkbox"
                  checked={form.systemPrompt === null}
                  data-testid="preset-editor-follow-systemPrompt"
                  onChange={(e) => {
                    const follow = e.target.checked;
                    setForm((v) => (v ? { ...v, systemPrompt: follow ? null : settings.defaultSystemPrompt } : v));
                  }}
                />
                Use Settings’ default
              </label>
            }
          >
            <textarea
              id={f('systemPrompt')}
              className="input textarea"
              rows={3}
              maxLength={20000}
              value={form.systemPrompt ?? settings.defaultSystemPrompt}
              disabled={form.systemPrompt === null}
              aria-invalid={errors.systemPrompt ? true : undefined}
              aria-describedby={`${f('systemPrompt')}-note`}
              data-testid="preset-editor-systemPrompt"
              onChange={(e) => {
                const value = e.target.value;
                setForm((v) => (v ? { ...v, systemPrompt: value } : v));
              }}
            />
          </EditorField>
          <div className="preset-editor__grid">
            {(['temperature', 'topP', 'minP', 'topK', 'repeatPenalty', 'seed'] as const).map((field) => (
              <EditorField key={field} id={f(field)} label={fieldMeta[field].label} error={errors[field]} hint={fieldMeta[field].hint}>
                {numberInput(field)}
              </EditorField>
            ))}
            {(['maxReplyTokens', 'contextSize'] as const).map((field) => (
              <EditorField key={field} id={f(field)} label={fieldMeta[field].label} error={errors[field]} hint={fieldMeta[field].hint} aside={followToggle(field)}>
                {numberInput(field, form.followSettings[field])}
              </EditorField>
            ))}
          </div>
        </form>
      )}
    </Dialog>
  );
  return createPortal(dialog, document.body);
}
