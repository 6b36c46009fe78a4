import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import type { ModelInfo } from '@shared/contract';
import { describeError } from '../api/errors';
import { baseName, formatBytes, formatJPerToken, formatParams } from '../lib/format';
import { energyApprox, profileName, variantLabel } from '../lib/governor';
import { displayFileName, sourceBadgeText } from '../lib/library';
import { useAppState, useAppStore } from '../state/context';
import { pinnedModelPath, sensorMeasured } from '../state/store';
import { IconCheck, IconChevronDown, IconEject, IconFolder, IconGauge, IconLayers, IconPin, IconRefresh } from './Icons';
import { useDismiss } from '../hooks/useDismiss';

export function QuantBadge({ quantization }: { quantization: string | null }) {
  if (!quantization) return null;
  return <span className="badge badge--quant">{quantization}</span>;
}

function modelFacts(model: ModelInfo): string[] {
  const facts: string[] = [];
  const params = formatParams(model.parameterCount);
  if (params) facts.push(`${params} params`);
  facts.push(formatBytes(model.sizeBytes));
  if (model.architecture) facts.push(model.architecture);
  return facts;
}

/** The folder hint shown when there are no models. */
export function NoModelsHint({ modelsDir }: { modelsDir: string | undefined }) {
  return (
    <>
      Put <strong>.gguf</strong> model files in{' '}
      {modelsDir ? <code className="path">{modelsDir}</code> : 'your models folder (see Settings)'} and press Refresh.
    </>
  );
}

/**
 * The model picker: "Auto — chosen by the power governor" first (what Auto picks now), then the models
 * in the folder. Choosing a model pins it for the open conversation (or the new chat); Auto unpins. The
 * trigger shows "Auto · <variant>" or the pinned model.
 */
export function ModelPicker() {
  const store = useAppStore();
  const models = useAppState((s) => s.models);
  const modelsError = useAppState((s) => s.modelsError);
  const modelsLoading = useAppState((s) => s.modelsLoading);
  const modelsDir = useAppState((s) => s.info?.modelsDir);
  const engine = useAppState((s) => s.engine);
  const active = useAppState((s) => s.active);
  const pinned = useAppState(pinnedModelPath);
  const decision = useAppState((s) => s.governor);
  const sensor = useAppState(sensorMeasured);
  const canEject = engine?.modelPath != null && (engine.state === 'ready' || engine.state === 'error') && Object.keys(active).length === 0;
  const all = models ?? [];
  const pinnedModel = pinned ? (all.find((m) => m.path === pinned) ?? null) : null;
  const chosen = decision?.chosen ?? null;
  const [open, setOpen] = useState(false);
  const [focusIndex, setFocusIndex] = useState(0);
  const root = useRef<HTMLDivElement>(null);
  const list = useRef<HTMLDivElement>(null);
  const listId = useId();
  // Option 0 is Auto; option i + 1 is all[i].
  const optionCount = all.length + 1;

  useDismiss(open, root, (reason) => {
    setOpen(false);
    if (reason === 'escape') root.current?.querySelector<HTMLButtonElement>('.model-picker__trigger')?.focus();
  });

  useEffect(() => {
    if (!open) return;
    setFocusIndex(pinned ? Math.max(0, all.findIndex((m) => m.path === pinned) + 1) : 0);
    // Refresh the list each time it opens: files may have been added (and Auto's choice with them).
    void store.refreshModels();
    void store.refreshGovernor();
  }, [open]);

  useEffect(() => {
    if (!open) return;
    const el = list.current?.querySelectorAll<HTMLElement>('[role="option"]')[focusIndex];
    el?.focus();
  }, [open, focusIndex, all.length]);

  const choose = (model: ModelInfo | null) => {
    if (model && !model.usable) return;
    setOpen(false);
    root.current?.querySelector<HTMLButtonElement>('.model-picker__trigger')?.focus();
    if ((model?.path ?? null) !== pinned) void store.pinModel(model?.path ?? null);
  };

  const onListKey = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setFocusIndex((i) => Math.min(optionCount - 1, i + 1));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setFocusIndex((i) => Math.max(0, i - 1));
    } else if (e.key === 'Home') {
      e.preventDefault();
      setFocusIndex(0);
    } else if (e.key === 'End') {
      e.preventDefault();
      setFocusIndex(optionCount - 1);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      setOpen(false);
      root.current?.querySelector<HTMLButtonElement>('.model-picker__trigger')?.focus();
    } else if (e.key === 'Tab') {
      setOpen(false);
    }
  };

  const usableCount = all.filter((m) => m.usable).length;
  const onOptionKey = (e: KeyboardEvent<HTMLDivElement>, model: ModelInfo | null) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      choose(model);
    }
  };

  let triggerName: string;
  if (pinned) triggerName = pinnedModel ? pinnedModel.name : baseName(pinned);
  else triggerName = chosen ? `Auto · ${chosen.name}` : 'Auto';
  const triggerQuant = pinned ? (pinnedModel?.quantization ?? null) : (chosen?.quantization ?? null);
  const shownName = models === null && pinned === null && !chosen ? 'Auto' : triggerName;
  // The accessible name starts with the visible text (name and quantization), so voice control users can
  // say what they see (WCAG 2.5.3, Label in Name).
  const shownText = triggerQuant ? `${shownName} ${triggerQuant}` : shownName;
  const triggerLabel = pinned ? `Model: ${shownText}, pinned for this chat. Change model` : `Model: ${shownText}, chosen by the power governor. Change model`;

  return (
    <div className="model-picker" ref={root}>
      <button
        type="button"
        className={`model-picker__trigger${pinned ? ' is-pinned' : ' is-auto'}`}
        data-testid="model-picker"
        data-mode={pinned ? 'pinned' : 'auto'}
        aria-haspopup="listbox"
        aria-expanded={open}
        aria-controls={open ? listId : undefined}
        aria-label={triggerLabel}
        title={pinned ? `Pinned for this chat: ${pinned}` : 'Auto: the power governor chooses the model for each reply'}
        onClick={() => setOpen((o) => !o)}
        onKeyDown={(e) => {
          if ((e.key === 'ArrowDown' || e.key === 'ArrowUp') && !open) {
            e.preventDefault();
            setOpen(true);
          }
        }}
      >
        {pinned ? <IconPin size={15} className="model-picker__icon" /> : <IconGauge size={15} className="model-picker__icon" />}
        <span className="model-picker__name">{shownName}</span>{' '}
        <QuantBadge quantization={triggerQuant} />
        <IconChevronDown size={14} className="model-picker__chevron" />
      </button>

      {open && (
        <div className="popover model-picker__popover">
          <div className="popover__header">
            <span>Model for this chat</span>
            <span className="popover__count">
              {usableCount} usable{all.length > usableCount ? ` · ${all.length - usableCount} unusable` : ''}
            </span>
          </div>
          {modelsError && <p className="popover__error">{describeError(modelsError)}</p>}
          <div className="model-list" role="listbox" id={listId} aria-label="Models" ref={list} onKeyDown={onListKey}>
            <div
              role="option"
              tabIndex={focusIndex === 0 ? 0 : -1}
              aria-selected={!pinned}
              className={`model-option model-option--auto${pinned ? '' : ' is-selected'}`}
              data-testid="model-option-auto"
              onClick={() => choose(null)}
              onKeyDown={(e) => onOptionKey(e, null)}
            >
              <div className="model-option__line">
                <IconGauge size={15} className="model-option__auto-icon" />
                <span className="model-option__name">Auto — chosen by the power governor</span>
                {!pinned && <IconCheck size={15} className="model-option__check" />}
              </div>
              <div className="model-option__meta">
                <span className="model-option__facts model-option__auto-now">
                  {chosen && decision ? (
                    <>
                      <span>
                        {profileName(decision.profile)} now picks <strong>{variantLabel(chosen)}</strong>
                      </span>
                      <span>
                        {energyApprox(chosen.predicted.source, sensor)}
                        {formatJPerToken(chosen.predicted.energyJPerToken)}
                      </span>
                    </>
                  ) : (
                    <span>Picks a model for each reply by your power profile</span>
                  )}
                </span>
              </div>
            </div>
            {all.length === 0 && !modelsError ? (
              <div className="model-empty">
                <IconFolder size={22} />
                <p className="model-empty__title">{modelsLoading && models === null ? 'Looking for models…' : 'No models yet'}</p>
                <p className="model-empty__text">
                  <NoModelsHint modelsDir={modelsDir} />
                </p>
              </div>
            ) : (
              <div role="group" aria-label="Pin a model for this chat">
                <div className="model-list__divider" aria-hidden="true">
                  Pin a model for this chat
                </div>
                {all.map((model, index) => {
                  const selected = model.path === pinned;
                  return (
                    <div
                      key={model.path}
                      role="option"
                      tabIndex={index + 1 === focusIndex ? 0 : -1}
                      aria-selected={selected}
                      aria-disabled={!model.usable}
                      className={`model-option${selected ? ' is-selected' : ''}${model.usable ? '' : ' is-disabled'}`}
                      data-testid="model-option"
                      data-usable={model.usable ? 'true' : 'false'}
                      data-model-path={model.path}
                      title={model.path}
                      onClick={() => choose(model)}
                      onKeyDown={(e) => onOptionKey(e, model)}
                    >
                      <div className="model-option__line">
                        <span className="model-option__name">{model.name}</span>
                        <QuantBadge quantization={model.quantization} />
                        {!pinned && model.path === chosen?.modelPath && <span className="model-option__auto-tag">Auto’s pick</span>}
                        {selected && <IconCheck size={15} className="model-option__check" />}
                      </div>
                      {model.usable ? (
                        <div className="model-option__meta">
                          <span className="model-option__facts">
                            {modelFacts(model).map((fact) => (
                              <span key={fact}>{fact}</span>
                            ))}
                          </span>
                          <span className="model-option__file">{model.source === 'models-folder' ? model.fileName : sourceBadgeText(model)}</span>
                        </div>
                      ) : (
                        <div className="model-option__problem">
                          {displayFileName(model)}: {model.problem ?? 'cannot be used'}
                        </div>
                      )}
                    </div>
                  );
                })}
              </div>
            )}
          </div>
          <div className="popover__footer">
            <span className="popover__folder" title={modelsDir}>
              <IconFolder size={13} />
              <span className="popover__folder-path">
                <bdi>{modelsDir ?? '—'}</bdi>
              </span>
            </span>
            {canEject && (
              <button
                type="button"
                className="button button--ghost button--small"
                data-testid="eject"
                title="Unload the model from memory; the next reply loads it again"
                onClick={() => void store.ejectModel()}
              >
                <IconEject size={13} />
                Eject
              </button>
            )}
            <button type="button" className="button button--ghost button--small" onClick={() => void store.refreshModels()} disabled={modelsLoading}>
              <IconRefresh size={13} className={modelsLoading ? 'spin' : undefined} />
              Refresh
            </button>
            <button
              type="button"
              className="button button--ghost button--small"
              data-testid="picker-manage-models"
              title="Download, browse and delete models"
              onClick={() => {
                setOpen(false);
                store.setView('models');
              }}
            >
              <IconLayers size={13} />
              Models
            </button>
          </div>
        </div>
      )}
    </div>
  );
}
