import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { ConversationSummary } from '@shared/contract';
import {
  BUILT_IN_PRESETS,
  DEFAULT_PRESET_ID,
  presetFieldsFromResolved,
  resolveGenerationSettings,
  withoutOverride,
  type OverridableField,
  type Preset,
  type PresetOverrides,
  type PresetSettingsBase,
  type ResolvedGenerationSettings,
} from '@shared/presets';
import { describeError } from '../../api/errors';
import { useDismiss } from '../../hooks/useDismiss';
import { useAppState, useAppStore } from '../../state/context';
import { presetsStore, usePresetsState } from '../../state/presets';
import { IconCheck, IconChevronDown, IconPlus, IconSliders } from '../Icons';
import { NumberOverrideField, PromptOverrideField } from './OverrideField';
import { formatNumber, numericFields, presetPurpose, presetSummary, resolvedValue } from './presetFields';

/** A conversation's preset choice: the preset id (null = Default) and its overrides. */
interface Choice {
  presetId: string | null;
  overrides: PresetOverrides | null;
}

/** A change made here that the open conversation does not show yet (the reload follows the backend's event). */
interface Pending extends Choice {
  conversationId: string;
  /** The conversation's choice when the change was made: a different one means someone else changed it. */
  base: string;
}

const key = (c: Choice) => JSON.stringify([c.presetId ?? DEFAULT_PRESET_ID, c.overrides ?? {}]);

/** The overrides with `field` set to `value`, or without it when `value` is undefined (null when none are left). */
function withOverride(overrides: PresetOverrides | null, field: OverridableField, value: PresetOverrides[OverridableField] | undefined): PresetOverrides | null {
  if (value === undefined) return withoutOverride(overrides, field);
  return { ...(overrides ?? {}), [field]: value };
}

/**
 * The chat header's preset picker: a compact button "Preset: Precise ▾" (a dot when the chat overrides
 * some of it) that opens a panel to choose a preset, see and change the chat's effective parameters
 * (each override marked with a dot and a reset-to-preset control) and save them as a new preset. For the
 * new chat not created yet, the choice is kept until the chat is created with it.
 */
export function PresetPicker() {
  const store = useAppStore();
  const selectedId = useAppState((s) => s.selectedId);
  const detail = useAppState((s) => s.detail);
  const settings = useAppState((s) => s.settings);
  const draftSystemPrompt = useAppState((s) => s.draftSystemPrompt);
  const presets = usePresetsState((s) => s.presets);
  const listError = usePresetsState((s) => s.error);
  const draft = usePresetsState((s) => s.draft);
  const [open, setOpen] = useState(false);
  const [pending, setPending] = useState<Pending | null>(null);
  const [error, setError] = useState<string | null>(null);
  const root = useRef<HTMLDivElement>(null);
  const panelId = useId();

  const conversation: ConversationSummary | null = selectedId !== null && detail?.conversation.id === selectedId ? detail.conversation : null;
  const isDraft = selectedId === null;
  const loading = !isDraft && conversation === null;

  // A new chat starts with Default.
  useEffect(() => {
    if (selectedId === null) presetsStore.resetDraft();
    setError(null);
    setPending(null);
  }, [selectedId]);

  // The list is fetched once, and again whenever the panel opens (presets may have changed in Settings or another window).
  useEffect(() => {
    if (presets === null || open) void presetsStore.refresh();
  }, [open]);

  // Drop the pending change once the conversation shows it, or when someone else changed the conversation.
  const serverKey = conversation ? key(conversation) : null;
  useEffect(() => {
    if (!pending || !conversation) return;
    if (pending.conversationId !== conversation.id || serverKey === key(pending) || serverKey !== pending.base) setPending(null);
  }, [serverKey, conversation?.id]);

  const all = presets ?? BUILT_IN_PRESETS;
  const base: PresetSettingsBase = settings ?? { defaultSystemPrompt: '', maxReplyTokens: 512, contextSize: 2048 };
  const choice: Choice = isDraft
    ? draft
    : pending && conversation && pending.conversationId === conversation.id
      ? pending
      : { presetId: conversation?.presetId ?? null, overrides: conversation?.overrides ?? null };
  const preset = all.find((p) => p.id === (choice.presetId ?? DEFAULT_PRESET_ID)) ?? null;
  const presetName = preset?.name ?? (choice.presetId ? 'Unknown preset' : 'Default');

  /** The choice resolved without a system-prompt override (what the new chat's prompt is compared with). */
  const plainResolve = (c: Choice): ResolvedGenerationSettings => {
    const target = all.find((p) => p.id === (c.presetId ?? DEFAULT_PRESET_ID)) ?? null;
    return resolveGenerationSettings({ settings: base, preset: target, overrides: withoutOverride(c.overrides, 'systemPrompt') });
  };
  /** The choice resolved; for the new chat, its editable system prompt (the welcome screen's) counts as an override when it differs. */
  const resolve = (c: Choice): ResolvedGenerationSettings => {
    const target = all.find((p) => p.id === (c.presetId ?? DEFAULT_PRESET_ID)) ?? null;
    if (!isDraft) return resolveGenerationSettings({ settings: base, preset: target, overrides: c.overrides });
    const plain = plainResolve(c);
    return draftSystemPrompt === plain.systemPrompt
      ? plain
      : resolveGenerationSettings({ settings: base, preset: target, overrides: { ...(c.overrides ?? {}), systemPrompt: draftSystemPrompt } });
  };
  const resolved = useMemo(() => resolve(choice), [key(choice), all, base.defaultSystemPrompt, base.maxReplyTokens, base.contextSize, draftSystemPrompt, isDraft]);
  const overrideCount = Object.values(resolved.sources).filter((s) => s === 'override').length;

  /** Applies a new choice: to the draft, or to the conversation (shown at once, undone when the call fails). */
  const apply = async (next: Choice) => {
    setError(null);
    if (isDraft) {
      presetsStore.setDraft({ presetId: next.presetId === DEFAULT_PRESET_ID ? null : next.presetId, overrides: next.overrides });
      return;
    }
    if (!conversation) return;
    const presetId = next.presetId === DEFAULT_PRESET_ID ? null : next.presetId;
    setPending({ conversationId: conversation.id, presetId, overrides: next.overrides, base: key(conversation) });
    const result = await presetsStore.setConversationPreset(conversation.id, presetId, next.overrides);
    if (!result.ok) {
      setPending(null);
      setError(describeError(result.error));
    }
  };

  const choosePreset = (target: Preset) => {
    if (isDraft) {
      // The new chat's prompt follows the preset unless the user wrote their own.
      if (draftSystemPrompt === plainResolve(choice).systemPrompt) {
        const after = resolveGenerationSettings({ settings: base, preset: target, overrides: withoutOverride(choice.overrides, 'systemPrompt') });
        store.setDraftSystemPrompt(after.systemPrompt);
      }
    }
    void apply({ presetId: target.id, overrides: choice.overrides });
  };

  const setField = (field: OverridableField, value: string | number | null | undefined) => {
    if (isDraft && field === 'systemPrompt') {
      store.setDraftSystemPrompt(typeof value === 'string' ? value : plainResolve(choice).systemPrompt);
      return;
    }
    // A value equal to what the preset gives is no override.
    const without = resolveGenerationSettings({ settings: base, preset, overrides: withoutOverride(choice.overrides, field) });
    const same = value !== undefined && resolvedValue(without, field) === value;
    void apply({ presetId: choice.presetId, overrides: withOverride(choice.overrides, field, same ? undefined : (value as PresetOverrides[OverridableField])) });
  };

  const resetAll = () => {
    if (isDraft) {
      const plain = resolveGenerationSettings({ settings: base, preset, overrides: null });
      store.setDraftSystemPrompt(plain.systemPrompt);
    }
    void apply({ presetId: choice.presetId, overrides: null });
  };

  const close = (focusTrigger: boolean) => {
    // Commit a value still being typed: blurring runs its field's commit.
    const active = document.activeElement;
    if (active instanceof HTMLElement && root.current?.contains(active)) active.blur();
    setOpen(false);
    if (focusTrigger) root.current?.querySelector<HTMLButtonElement>('.preset-picker__trigger')?.focus();
  };
  useDismiss(open, root, (reason) => close(reason === 'escape'));

  const label = `Preset: ${presetName}${overrideCount > 0 ? `, ${overrideCount} ${overrideCount === 1 ? 'setting' : 'settings'} changed for this chat` : ''}. Change preset or parameters`;

  return (
    <div className="preset-picker" ref={root}>
      <button
        type="button"
        className={`preset-picker__trigger${overrideCount > 0 ? ' has-overrides' : ''}`}
        data-testid="preset-picker"
        data-preset={choice.presetId ?? DEFAULT_PRESET_ID}
        aria-haspopup="dialog"
        aria-expanded={open}
        aria-controls={open ? panelId : undefined}
        aria-label={label}
        title={label.replace(/\. Change.*$/, '')}
        disabled={loading}
        onClick={() => (open ? close(false) : setOpen(true))}
      >
        <IconSliders size={15} className="preset-picker__icon" />
        <span className="preset-picker__prefix">Preset:</span>
        <span className="preset-picker__name">{presetName}</span>
        {overrideCount > 0 && <span className="preset-picker__dot" aria-hidden="true" />}
        <IconChevronDown size={14} className="preset-picker__chevron" />
      </button>
      {open && (
        <PresetPanel
          id={panelId}
          isDraft={isDraft}
          presets={all}
          listError={listError ? describeError(listError) : null}
          error={error}
          choice={choice}
          preset={preset}
          resolved={resolved}
          base={base}
          overrideCount={overrideCount}
          onChoose={choosePreset}
          onField={setField}
          onResetAll={resetAll}
          onSaved={(created) => {
            // The new preset holds the chat's values: switch to it without overrides.
            if (isDraft) store.setDraftSystemPrompt(resolveGenerationSettings({ settings: base, preset: created, overrides: null }).systemPrompt);
            void apply({ presetId: created.id, overrides: null });
          }}
        />
      )}
    </div>
  );
}

interface PanelProps {
  id: string;
  isDraft: boolean;
  presets: readonly Preset[];
  listError: string | null;
  error: string | null;
  choice: Choice;
  preset: Preset | null;
  resolved: ResolvedGenerationSettings;
  base: PresetSettingsBase;
  overrideCount: number;
  onChoose: (preset: Preset) => void;
  onField: (field: OverridableField, value: string | number | null | undefined) => void;
  onResetAll: () => void;
  onSaved: (preset: Preset) => void;
}

/** The picker's panel: the presets, the chat's parameters, and "Save as new preset…". */
function PresetPanel({ id, isDraft, presets, listError, error, choice, preset, resolved, base, overrideCount, onChoose, onField, onResetAll, onSaved }: PanelProps) {
  const selectedId = choice.presetId ?? DEFAULT_PRESET_ID;
  const [focusIndex, setFocusIndex] = useState(() => Math.max(0, presets.findIndex((p) => p.id === selectedId)));
  const list = useRef<HTMLDivElement>(null);
  const listId = useId();

  useEffect(() => {
    list.current?.querySelectorAll<HTMLElement>('[role="option"]')[focusIndex]?.focus();
  }, [focusIndex]);

  const onListKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const last = presets.length - 1;
    const move = e.key === 'ArrowDown' ? 1 : e.key === 'ArrowUp' ? -1 : 0;
    if (move !== 0) {
      e.preventDefault();
      setFocusIndex((i) => Math.min(last, Math.max(0, i + move)));
    } else if (e.key === 'Home' || e.key === 'End') {
      e.preventDefault();
      setFocusIndex(e.key === 'Home' ? 0 : last);
    }
  };

  /** What resetting `field` goes back to: its value without the override, and whose it is. */
  const baseOf = (field: OverridableField) => {
    const without = resolveGenerationSettings({ settings: base, preset, overrides: withoutOverride(choice.overrides, field) });
    const value = resolvedValue(without, field);
    const text = typeof value === 'string' ? (value.trim() === '' ? 'none' : value) : value === null ? 'random' : formatNumber(value);
    return { text, name: without.sources[field] === 'settings' ? 'Settings' : (preset?.name ?? 'Default') };
  };

  return (
    <div className="popover preset-panel" id={id} role="dialog" aria-label="Preset and parameters" data-testid="preset-panel">
      <div className="popover__header">
        <span>{isDraft ? 'Preset for the new chat' : 'Preset for this chat'}</span>
        <span className="popover__count">{presets.length} presets</span>
      </div>
      {listError && <p className="popover__error">{listError}</p>}
      <div className="preset-list" role="listbox" id={listId} aria-label="Presets" ref={list} onKeyDown={onListKey}>
        {presets.map((p, index) => {
          const selected = p.id === selectedId;
          const purpose = presetPurpose(p);
          return (
            <div
              key={p.id}
              role="option"
              aria-selected={selected}
              tabIndex={index === focusIndex ? 0 : -1}
              className={`preset-option${selected ? ' is-selected' : ''}`}
              data-testid="preset-option"
              data-preset-id={p.id}
              onClick={() => {
                setFocusIndex(index);
                if (!selected) onChoose(p);
              }}
              onKeyDown={(e) => {
                if ((e.key === 'Enter' || e.key === ' ') && !selected) {
                  e.preventDefault();
                  onChoose(p);
                }
              }}
            >
              <div className="preset-option__line">
                <span className="preset-option__name">{p.name}</span>
                {p.builtIn ? <span className="preset-option__tag">Built-in</span> : null}
                {purpose && <span className="preset-option__purpose">{purpose}</span>}
                {selected && <IconCheck size={15} className="preset-option__check" />}
              </div>
              <div className="preset-option__summary">{presetSummary(p)}</div>
            </div>
          );
        })}
      </div>

      <div className="preset-panel__params" role="group" aria-labelledby={`${id}-params`}>
        <div className="preset-panel__params-head">
          <h3 className="preset-panel__title" id={`${id}-params`}>
            Parameters {isDraft ? 'for the new chat' : 'for this chat'}
          </h3>
          {overrideCount > 0 && (
            <button type="button" className="preset-panel__reset-all" data-testid="reset-all-overrides" onClick={onResetAll}>
              Reset all to {preset?.name ?? 'Default'}
            </button>
          )}
        </div>
        <p className="preset-panel__legend">
          <span className="preset-field__dot" aria-hidden="true" /> Changed for this chat only: the preset itself stays as it is.
        </p>
        {error && (
          <p className="popover__error preset-panel__error" role="alert">
            {error}
          </p>
        )}
        <PromptOverrideField
          value={resolved.systemPrompt}
          source={resolved.sources.systemPrompt}
          baseText={baseOf('systemPrompt').text}
          baseName={baseOf('systemPrompt').name}
          onCommit={(value) => onField('systemPrompt', value)}
          onReset={() => onField('systemPrompt', undefined)}
        />
        <div className="preset-panel__grid">
          {numericFields.map((field) => {
            const b = baseOf(field);
            return (
              <NumberOverrideField
                key={field}
                field={field}
                value={resolvedValue(resolved, field) as number | null}
                source={resolved.sources[field]}
                baseText={b.text}
                baseName={b.name}
                onCommit={(value) => onField(field, value)}
                onReset={() => onField(field, undefined)}
              />
            );
          })}
        </div>
      </div>
      <SaveAsPreset resolved={resolved} presets={presets} onSaved={onSaved} />
    </div>
  );
}

/** "Save as new preset…": a name, then a new user preset with the chat's effective values. */
function SaveAsPreset({ resolved, presets, onSaved }: { resolved: ResolvedGenerationSettings; presets: readonly Preset[]; onSaved: (preset: Preset) => void }) {
  const [naming, setNaming] = useState(false);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const inputId = useId();
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (naming) input.current?.focus();
  }, [naming]);

  const start = () => {
    let n = 1;
    let suggestion = `${resolved.preset.name} (custom)`;
    while (presets.some((p) => p.name.toLocaleLowerCase() === suggestion.toLocaleLowerCase())) suggestion = `${resolved.preset.name} (custom ${++n})`;
    setName(suggestion);
    setError(null);
    setNaming(true);
  };

  const save = async () => {
    const trimmed = name.trim();
    if (!trimmed) {
      setError('Give the preset a name.');
      return;
    }
    setSaving(true);
    const result = await presetsStore.create(presetFieldsFromResolved(resolved, trimmed));
    setSaving(false);
    if (!result.ok) {
      setError(describeError(result.error));
      return;
    }
    setNaming(false);
    onSaved(result.value);
  };

  if (!naming) {
    return (
      <div className="popover__footer preset-panel__footer">
        <span className="preset-panel__hint">Edit or delete presets in Settings.</span>
        <button type="button" className="button button--ghost button--small" data-testid="save-as-preset" onClick={start}>
          <IconPlus size={13} />
          Save as new preset…
        </button>
      </div>
    );
  }
  return (
    <div className="popover__footer preset-panel__footer preset-panel__footer--naming">
      <label className="visually-hidden" htmlFor={inputId}>
        Name of the new preset
      </label>
      <input
        ref={input}
        id={inputId}
        className="input preset-panel__name"
        value={name}
        maxLength={60}
        placeholder="Preset name"
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${inputId}-error` : undefined}
        data-testid="new-preset-name"
        onChange={(e) => {
          setName(e.target.value);
          setError(null);
        }}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            e.preventDefault();
            void save();
          } else if (e.key === 'Escape') {
            e.preventDefault();
            e.stopPropagation();
            setNaming(false);
          }
        }}
      />
      <button type="button" className="button button--ghost button--small" onClick={() => setNaming(false)}>
        Cancel
      </button>
      <button type="button" className="button button--primary button--small" data-testid="confirm-save-preset" disabled={saving} onClick={() => void save()}>
        {saving ? 'Saving…' : 'Save'}
      </button>
      {error && (
        <p className="preset-panel__name-error" id={`${inputId}-error`} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
