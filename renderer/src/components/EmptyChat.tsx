import { useState } from 'react';
import { useAppState, useAppStore } from '../state/context';
import { baseName } from '../lib/format';
import { effectiveModel, noUsableModel, pinnedModelPath } from '../state/store';
import { QuantBadge } from './ModelPicker';
import { BoltMark, IconChevronRight, IconFolder, IconLayers, IconRefresh } from './Icons';

const examples: { title: string; prompt: string }[] = [
  { title: 'Tell a story', prompt: 'Once upon a time' },
  { title: 'Explain simply', prompt: 'Explain what a context window is in a language model, in three short sentences.' },
  { title: 'Write code', prompt: 'Write a Python function that checks whether a number is prime, with a short docstring.' },
  { title: 'Save energy', prompt: 'Give me five practical ways to make my laptop battery last longer.' },
];

interface EmptyChatProps {
  /** The existing (empty) conversation's system prompt; undefined for a new chat not created yet. */
  systemPrompt?: string;
  onExample: (prompt: string) => void;
}

/** What an empty conversation shows: a welcome, the system prompt and a few example prompts. */
export function EmptyChat({ systemPrompt, onExample }: EmptyChatProps) {
  const store = useAppStore();
  const draftSystemPrompt = useAppState((s) => s.draftSystemPrompt);
  const model = useAppState(effectiveModel);
  const pinned = useAppState(pinnedModelPath);
  const noModel = useAppState(noUsableModel);
  const modelsDir = useAppState((s) => s.info?.modelsDir);
  const modelsLoading = useAppState((s) => s.modelsLoading);
  const [promptOpen, setPromptOpen] = useState(false);
  const editable = systemPrompt === undefined;
  const promptValue = editable ? draftSystemPrompt : systemPrompt;

  return (
    <div className="welcome">
      <div className="welcome__mark">
        <BoltMark size={44} />
      </div>
      <h2 className="welcome__title">What can I help with?</h2>
      <p className="welcome__subtitle">
        {noModel ? (
          'Private, offline AI. Everything runs on this computer.'
        ) : pinned ? (
          <>
            Chatting with <strong>{model?.name ?? baseName(pinned)}</strong>
            {model && <QuantBadge quantization={model.quantization} />}, running on this computer. Nothing you write leaves it.
          </>
        ) : (
          <>
            The power governor picks the model for each reply
            {model && (
              <>
                {' '}— now <strong>{model.name}</strong> <QuantBadge quantization={model.quantization} />
              </>
            )}
            . Everything runs on this computer.
          </>
        )}
      </p>

      {noModel && (
        <div className="welcome__card welcome__card--setup">
          <IconFolder size={20} />
          <div>
            <p className="welcome__card-title">Add a model to get started</p>
            <p className="welcome__card-text">
              Download one picked for this computer, or put <strong>.gguf</strong> files in{' '}
              {modelsDir ? <code className="path">{modelsDir}</code> : 'your models folder (see Settings)'} and press Refresh.
            </p>
          </div>
          <div className="welcome__card-actions">
            <button type="button" className="button button--primary button--small" data-testid="browse-models" onClick={() => store.setView('models')}>
              <IconLayers size={13} />
              Browse models
            </button>
            <button type="button" className="button button--ghost button--small" disabled={modelsLoading} onClick={() => void store.refreshModels()}>
              <IconRefresh size={13} className={modelsLoading ? 'spin' : undefined} />
              Refresh
            </button>
          </div>
        </div>
      )}

      <div className={`system-prompt${promptOpen ? ' is-open' : ''}`}>
        <button type="button" className="system-prompt__toggle" aria-expanded={promptOpen} onClick={() => setPromptOpen((o) => !o)}>
          <IconChevronRight size={14} className="system-prompt__chevron" />
          <span>System prompt</span>
          {!promptOpen && <span className="system-prompt__preview">{promptValue.trim() || 'None'}</span>}
        </button>
        {promptOpen && (
          <div className="system-prompt__body">
            <textarea
              className="system-prompt__input"
              value={promptValue}
              readOnly={!editable}
              rows={4}
              maxLength={20000}
              aria-label="System prompt"
              placeholder="Instructions the model follows for the whole conversation"
              onChange={(e) => store.setDraftSystemPrompt(e.target.value)}
            />
            <p className="system-prompt__note">
              {editable ? 'Applies to this new chat. Change the default in Settings.' : 'This conversation started with this system prompt.'}
            </p>
          </div>
        )}
      </div>

      <div className="examples" role="list" aria-label="Example prompts">
        {examples.map((example) => (
          <button key={example.title} type="button" role="listitem" className="example" onClick={() => onExample(example.prompt)}>
            <span className="example__title">{example.title}</span>
            <span className="example__prompt">{example.prompt}</span>
          </button>
        ))}
      </div>
    </div>
  );
}
