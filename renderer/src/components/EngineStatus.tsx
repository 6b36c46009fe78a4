import type { ApiError, EngineStatus as Status, ModelInfo } from '@shared/contract';
import { describeError } from '../api/errors';
import { baseName } from '../lib/format';
import { useAppState } from '../state/context';
import { IconAlert } from './Icons';
import { effectiveModel } from '../state/store';

export interface EngineLine {
  tone: 'muted' | 'busy' | 'ok' | 'error';
  text: string;
  progress: number | null;
}

/** One line of text for the engine's state. */
export function engineLine(
  status: Status | null,
  loadError: ApiError | null,
  models: ModelInfo[] | null,
  selectedPath: string | null = null,
): EngineLine | null {
  const name = (path: string | null) => {
    if (!path) return null;
    const model = models?.find((m) => m.path === path);
    return model ? model.name : baseName(path);
  };
  // The loaded model is named only when it is not the one shown in the model picker.
  const loadedOther = status?.modelPath && status.modelPath !== selectedPath ? ` · ${name(status.modelPath)}` : '';
  if (loadError && status?.state !== 'loading' && status?.state !== 'calibrating') {
    return { tone: 'error', text: describeError(loadError), progress: null };
  }
  if (!status) return null;
  const threads = status.threads ? ` · ${status.threads} ${status.threads === 1 ? 'thread' : 'threads'}` : '';
  switch (status.state) {
    case 'idle':
      return { tone: 'muted', text: status.idleUnloaded ? 'Unloaded to save memory · loads with your next message' : 'No model loaded', progress: null };
    case 'loading': {
      const pct = status.loadProgress === null ? null : Math.round(status.loadProgress * 100);
      return { tone: 'busy', text: pct === null ? 'Loading model…' : `Loading model… ${pct}%`, progress: status.loadProgress };
    }
    case 'calibrating':
      return { tone: 'busy', text: 'Measuring the fastest thread count…', progress: null };
    case 'ready':
      return { tone: 'ok', text: `Ready${loadedOther}${threads}`, progress: null };
    case 'generating':
      return { tone: 'busy', text: `Generating${threads}`, progress: null };
    case 'error': {
      const which = name(status.modelPath);
      const why = status.error ? describeError(status.error) : 'The model could not be loaded.';
      return { tone: 'error', text: which ? `${which}: ${why}` : why, progress: null };
    }
    default: {
      const unreachable: never = status.state;
      return { tone: 'muted', text: String(unreachable), progress: null };
    }
  }
}

/** The engine's state: a chip in the header, or a full-width alert row for errors. */
export function EngineStatus({ placement }: { placement: 'chip' | 'alert' }) {
  const engine = useAppState((s) => s.engine);
  const loadError = useAppState((s) => s.engineLoadError);
  const models = useAppState((s) => s.models);
  const shownPath = useAppState((s) => effectiveModel(s)?.path ?? null);
  const line = engineLine(engine, loadError, models, shownPath);
  if (!line) return null;
  const isError = line.tone === 'error';
  if (placement === 'chip' && isError) return null;
  if (placement === 'alert' && !isError) return null;
  if (isError) {
    return (
      <div className="engine-alert" role="alert" data-testid="engine-status" data-state={engine?.state ?? 'error'}>
        <IconAlert size={15} />
        <span>{line.text}</span>
      </div>
    );
  }
  return (
    <div className={`engine-chip engine-chip--${line.tone}`} data-testid="engine-status" data-state={engine?.state ?? 'idle'} role="status" aria-live="polite" title={line.text}>
      <span className="engine-chip__dot" aria-hidden="true" />
      <span className="engine-chip__text">{line.text}</span>
      {line.progress !== null && (
        <span className="engine-chip__bar" aria-hidden="true">
          <span className="engine-chip__fill" style={{ transform: `scaleX(${line.progress})` }} />
        </span>
      )}
    </div>
  );
}
