import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import type { ModelInfo } from '@shared/contract';
import { describeError } from '../api/errors';
import { formatBytes, formatParams } from '../lib/format';
import { useAppState, useAppStore } from '../state/context';
import { effectiveModel } from '../state/store';
import { IconCheck, IconChevronDown, IconCpu, IconEject, IconFolder, IconRefresh } from './Icons';

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

export function ModelPicker() {
  const store = useAppStore();
  const models = useAppState((s) => s.models);
  const settings = useAppState((s) => s.settings);
  const modelsError = useAppState((s) => s.modelsError);
  const modelsLoading = useAppState((s) => s.modelsLoading);
  const modelsDir = useAppState((s) => s.info?.modelsDir);
  const engine = useAppState((s) => s.engine);
  const active = useAppState((s) => s.active);
  const canEject = engine?.modelPath != null && (engine.state === 'ready' || engine.state === 'error') && Object.keys(active).length === 0;
  const current = effectiveModel({ models, settings });
  const [open, setOpen] = useState(false);
  const [focusIndex, setFocusIndex] = useState(0);
  const root = useRef<HTMLDivElement>(null);
  const list = useRef<HTMLDivElement>(null);
  const listId = useId();
  const all = models ?? [];

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (root.current && !root.current.contains(e.target as Node)) setOpen(false);
    };
    const onKey = (e: globalThis.KeyboardEvent) => {
      if (e.key === 'Escape') {
        setOpen(false);
        root.current?.querySelector<HTMLButtonElement>('.model-picker__trigger')?.focus();
      }
    };
    document.addEventListener('mousedown', onDown);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('keydown', onKey);
    };
  }, [open]);

  useEffect(() => {
    if (!open) return;
    const index = Math.max(0, all.findIndex((m) => m.path === current?.path));
    setFocusIndex(index);
    // Refresh the list each time it opens: files may have been added.
    void store.refreshModels();
  }, [open]);

  useEffect(() => {
    if (!open) return;
    const el = list.current?.querySelectorAll<HTMLElement>('[role="option"]')[focusIndex];
    el?.focus();
  }, [open, focusIndex, all.length]);

  const choose = (model: ModelInfo) => {
    if (!model.usable) return;
    setOpen(false);
    void store.chooseModel(model.path);
  };

  const onListKey = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setFocusIndex((i) => Math.min(all.length - 1, i + 1));
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setFocusIndex((i) => Math.max(0, i - 1));
    } else if (e.key === 'Home') {
      e.preventDefault();
      setFocusIndex(0);
    } else if (e.key === 'End') {
      e.preventDefault();
      setFocusIndex(all.length - 1);
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

  return (
    <div className="model-picker" ref={root}>
      <button
        type="button"
        className={`model-picker__trigger${current ? '' : ' is-empty'}`}
        data-testid="model-picker"
        aria-haspopup="listbox"
        aria-expanded={open}
        aria-controls={open ? listId : undefined}
        aria-label={current ? `Model: ${current.name}. Change model` : 'Choose a model'}
        onClick={() => setOpen((o) => !o)}
        onKeyDown={(e) => {
          if ((e.key === 'ArrowDown' || e.key === 'ArrowUp') && !open) {
            e.preventDefault();
            setOpen(true);
          }
        }}
      >
        <IconCpu size={15} className="model-picker__icon" />
        <span className="model-picker__name">{current ? current.name : models === null ? 'Loading models…' : 'Choose a model'}</span>
        {current && <QuantBadge quantization={current.quantization} />}
        <IconChevronDown size={14} className="model-picker__chevron" />
      </button>

      {open && (
        <div className="popover model-picker__popover">
          <div className="popover__header">
            <span>Models on this computer</span>
            <span className="popover__count">
              {usableCount} usable{all.length > usableCount ? ` · ${all.length - usableCount} unusable` : ''}
            </span>
          </div>
          {modelsError && <p className="popover__error">{describeError(modelsError)}</p>}
          {all.length === 0 && !modelsError ? (
            <div className="model-empty">
              <IconFolder size={22} />
              <p className="model-empty__title">{modelsLoading && models === null ? 'Looking for models…' : 'No models yet'}</p>
              <p className="model-empty__text">
                <NoModelsHint modelsDir={modelsDir} />
              </p>
            </div>
          ) : (
            <div className="model-list" role="listbox" id={listId} aria-label="Models" ref={list} onKeyDown={onListKey}>
              {all.map((model, index) => {
                const selected = model.path === current?.path;
                return (
                  <div
                    key={model.path}
                    role="option"
                    tabIndex={index === focusIndex ? 0 : -1}
                    aria-selected={selected}
                    aria-disabled={!model.usable}
                    className={`model-option${selected ? ' is-selected' : ''}${model.usable ? '' : ' is-disabled'}`}
                    data-testid="model-option"
                    data-usable={model.usable ? 'true' : 'false'}
                    data-model-path={model.path}
                    title={model.path}
                    onClick={() => choose(model)}
                    onKeyDown={(e) => {
                      if (e.key === 'Enter' || e.key === ' ') {
                        e.preventDefault();
                        choose(model);
                      }
                    }}
                  >
                    <div className="model-option__line">
                      <span className="model-option__name">{model.name}</span>
                      <QuantBadge quantization={model.quantization} />
                      {selected && <IconCheck size={15} className="model-option__check" />}
                    </div>
                    {model.usable ? (
                      <div className="model-option__meta">
                        <span className="model-option__facts">
                          {modelFacts(model).map((fact) => (
                            <span key={fact}>{fact}</span>
                          ))}
                        </span>
                        <span className="model-option__file">{model.fileName}</span>
                      </div>
                    ) : (
                      <div className="model-option__problem">
                        {model.fileName}: {model.problem ?? 'cannot be used'}
                      </div>
                    )}
                  </div>
                );
              })}
            </div>
          )}
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
          </div>
        </div>
      )}
    </div>
  );
}
