import { useId, useState, type FormEvent } from 'react';
import { describeError } from '../../api/errors';
import { downloadFileName, looksLikeSource } from '../../lib/library';
import { useAppStore } from '../../state/context';
import { IconDownload } from '../Icons';

/**
 * "Download from Hugging Face or a URL": an `hf:org/repo/file.gguf` or `hf:org/repo:Q4_K_M` URI, a Hub
 * URL or any https URL of a .gguf. Starting it adds it to Downloads (the backend checks the source).
 */
export function DownloadField() {
  const store = useAppStore();
  const id = useId();
  const [text, setText] = useState('');
  const [starting, setStarting] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [started, setStarted] = useState<string | null>(null);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const source = text.trim();
    if (!source) return;
    if (!looksLikeSource(source)) {
      setError('Enter hf:org/repo/file.gguf, hf:org/repo:Q4_K_M, or an https:// link to a .gguf file.');
      return;
    }
    setStarting(true);
    setError(null);
    setStarted(null);
    const result = await store.startDownload(source);
    setStarting(false);
    if (!result.ok) {
      setError(describeError(result.error));
      return;
    }
    setStarted(`Downloading ${downloadFileName(result.value)}: its progress is in Downloads above.`);
    setText('');
  };

  return (
    <form className="dl-field" onSubmit={(e) => void submit(e)} noValidate data-testid="download-field">
      <label className="dl-field__label" htmlFor={id}>
        Download from Hugging Face or a URL
      </label>
      <div className="dl-field__row">
        <input
          id={id}
          className="input input--mono dl-field__input"
          data-testid="download-source"
          value={text}
          spellCheck={false}
          autoComplete="off"
          placeholder="hf:org/repo/file.gguf · hf:org/repo:Q4_K_M · https://…/model.gguf"
          aria-invalid={error ? true : undefined}
          aria-describedby={`${id}-hint`}
          onChange={(e) => {
            setText(e.target.value);
            setError(null);
          }}
        />
        <button type="submit" className="button button--primary" data-testid="download-source-start" disabled={starting || !text.trim()}>
          <IconDownload size={14} />
          {starting ? 'Starting…' : 'Download'}
        </button>
      </div>
      {error ? (
        <p className="dl-field__error" id={`${id}-hint`} role="alert" data-testid="download-source-error">
          {error}
        </p>
      ) : started ? (
        <p className="dl-field__hint dl-field__hint--ok" id={`${id}-hint`} role="status">
          {started}
        </p>
      ) : (
        <p className="dl-field__hint" id={`${id}-hint`}>
          Files go to the models folder, are checked against the Hub’s SHA-256, and resume where they stopped.
        </p>
      )}
    </form>
  );
}
