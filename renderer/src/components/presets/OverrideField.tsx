import { useEffect, useId, useState, type KeyboardEvent } from 'react';
import type { OverridableField, ValueSource } from '@shared/presets';
import { IconRefresh } from '../Icons';
import { fieldMeta, formatNumber, parseNumber, type NumericField } from './presetFields';

/** What every override field takes. */
interface OverrideFieldProps {
  /** The effective value now. */
  source: ValueSource;
  /** What "reset" goes back to, already formatted (the preset's value, or Settings'). */
  baseText: string;
  /** Where the base comes from, e.g. "Precise" or "Settings". */
  baseName: string;
  /** Disabled while nothing can be changed (e.g. a conversation still loading). */
  disabled?: boolean;
  /** Resets the field to the preset (removes the override). */
  onReset: () => void;
}

/** The label row: an accent dot when overridden, the label, and the reset control. */
function FieldHead({ field, inputId, source, baseText, baseName, onReset, disabled }: OverrideFieldProps & { field: OverridableField; inputId: string }) {
  const label = fieldMeta[field].label;
  const overridden = source === 'override';
  // The reset control shows the value it goes back to when short; its name starts with what it shows.
  const shown = baseText !== '' && baseText.length <= 14 ? baseText : 'Reset';
  const name = shown === 'Reset' ? `Reset ${label} to ${baseName}’s value` : `${shown}: reset ${label} to ${baseName}’s value`;
  return (
    <div className="preset-field__head">
      <label className="preset-field__label" htmlFor={inputId}>
        {overridden && <span className="preset-field__dot" aria-hidden="true" />}
        {label}
        {overridden && <span className="visually-hidden"> (overridden for this chat)</span>}
      </label>
      {overridden ? (
        <button
          type="button"
          className="preset-field__reset"
          data-testid={`reset-${field}`}
          aria-label={name}
          title={`Reset to ${baseName}’s value${baseText ? `: ${baseText}` : ''}`}
          disabled={disabled}
          onClick={onReset}
        >
          <IconRefresh size={12} />
          <span>{shown}</span>
        </button>
      ) : source === 'settings' ? (
        <span className="preset-field__source">from Settings</span>
      ) : null}
    </div>
  );
}

/**
 * One numeric parameter of a chat: its effective value in an input that commits on Enter or when focus
 * leaves (an invalid value stays in the box with its error, nothing is sent); Escape puts the value back.
 */
export function NumberOverrideField({
  field,
  value,
  onCommit,
  ...rest
}: OverrideFieldProps & { field: NumericField; value: number | null; onCommit: (value: number | null) => void }) {
  const id = useId();
  const [text, setText] = useState(formatNumber(value));
  const [error, setError] = useState<string | null>(null);
  const [editing, setEditing] = useState(false);

  // The value changed elsewhere (a reset, another preset): show it unless the user is typing.
  useEffect(() => {
    if (!editing) {
      setText(formatNumber(value));
      setError(null);
    }
  }, [value, editing]);

  const commit = () => {
    const parsed = parseNumber(field, text);
    if (!parsed.ok) {
      setError(parsed.error);
      return false;
    }
    setError(null);
    setEditing(false);
    if (parsed.value !== value) onCommit(parsed.value);
    else setText(formatNumber(value));
    return true;
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      commit();
    } else if (e.key === 'Escape' && (text !== formatNumber(value) || error)) {
      // Undo the typing, and keep the popover open (a second Escape closes it).
      e.preventDefault();
      e.stopPropagation();
      setEditing(false);
      setError(null);
      setText(formatNumber(value));
    }
  };

  const meta = fieldMeta[field];
  return (
    <div className={`preset-field${rest.source === 'override' ? ' is-overridden' : ''}${error ? ' has-error' : ''}`} data-field={field}>
      <FieldHead field={field} inputId={id} {...rest} />
      <div className="preset-field__control">
        <input
          id={id}
          className="input preset-field__input"
          inputMode={meta.integer ? 'numeric' : 'decimal'}
          autoComplete="off"
          spellCheck={false}
          value={text}
          placeholder={field === 'seed' ? 'Random' : undefined}
          disabled={rest.disabled}
          aria-invalid={error ? true : undefined}
          aria-describedby={`${id}-note`}
          data-testid={`param-${field}`}
          onFocus={() => setEditing(true)}
          onChange={(e) => {
            setEditing(true);
            setText(e.target.value);
            if (error) setError(null);
          }}
          onBlur={() => {
            if (!commit()) setEditing(true);
          }}
          onKeyDown={onKeyDown}
        />
        {meta.unit && <span className="preset-field__unit">{meta.unit}</span>}
      </div>
      <p className={error ? 'preset-field__error' : 'visually-hidden'} id={`${id}-note`} role={error ? 'alert' : undefined}>
        {error ?? meta.hint}
      </p>
    </div>
  );
}

/** The chat's system prompt: a textarea that commits when focus leaves (or Ctrl/Cmd+Enter); Escape puts it back. */
export function PromptOverrideField({ value, onCommit, ...rest }: OverrideFieldProps & { value: string; onCommit: (value: string) => void }) {
  const id = useId();
  const [text, setText] = useState(value);
  const [editing, setEditing] = useState(false);
  useEffect(() => {
    if (!editing) setText(value);
  }, [value, editing]);
  const commit = () => {
    setEditing(false);
    if (text !== value) onCommit(text);
  };
  return (
    <div className={`preset-field preset-field--wide${rest.source === 'override' ? ' is-overridden' : ''}`} data-field="systemPrompt">
      <FieldHead field="systemPrompt" inputId={id} {...rest} />
      <textarea
        id={id}
        className="input textarea preset-field__prompt"
        rows={3}
        maxLength={20000}
        value={text}
        placeholder="No system prompt"
        disabled={rest.disabled}
        data-testid="param-systemPrompt"
        onFocus={() => setEditing(true)}
        onChange={(e) => {
          setEditing(true);
          setText(e.target.value);
        }}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
            e.preventDefault();
            commit();
          } else if (e.key === 'Escape' && editing && text !== value) {
            e.preventDefault();
            e.stopPropagation();
            setEditing(false);
            setText(value);
          }
        }}
      />
    </div>
  );
}
