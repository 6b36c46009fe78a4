import { useState } from 'react';
import { apiServerSettingsSchema, defaultApiPort, type ApiServerSettings, type ApiServerStatus } from '@shared/contract';
import { describeError } from '../../api/errors';
import { useCopy } from '../../hooks/useCopy';
import { useAppState, useAppStore } from '../../state/context';
import { Dialog } from '../Dialog';
import { IconAlert, IconCheck, IconCopy, IconEye, IconEyeOff, IconRefresh } from '../Icons';
import { FieldRow } from '../SettingsDialog';

/** What the Local API section edits before Save: the port, whether text is kept, the allowed origins. */
export interface ApiForm {
  port: string;
  keepText: boolean;
  /** One origin per line, as typed. */
  allowedOrigins: string;
}

/** The section's fields that can be wrong. */
export type ApiField = 'apiPort' | 'apiOrigins';
export type ApiErrors = Partial<Record<ApiField, string>>;

/** The form's starting values from the stored settings. */
export function toApiForm(api: ApiServerSettings): ApiForm {
  return { port: String(api.port), keepText: api.keepText, allowedOrigins: api.allowedOrigins.join('\n') };
}

/** `apiServerSettingsSchema.allowedOrigins`' maximum. */
const MAX_ORIGINS = 20;

/**
 * Reads the origins typed one per line: blank lines are dropped, each is normalised the way browsers send
 * it (`new URL(...).origin`: lower-case host, no default port, no trailing slash), duplicates are dropped.
 */
export function parseOrigins(text: string): { origins: string[] } | { error: string } {
  const origins: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    const where = lines.filter((l) => l.trim()).length > 1 ? `Line ${i + 1}: ` : '';
    if (!/^https?:\/\//i.test(line)) {
      return { error: `${where}“${line}” is not an origin. Write the scheme, host and port, e.g. http://localhost:3000.` };
    }
    let url: URL;
    try {
      url = new URL(line);
    } catch {
      return { error: `${where}“${line}” is not an origin. Write the scheme, host and port, e.g. http://localhost:3000.` };
    }
    if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash || url.username || url.password) {
      return { error: `${where}“${line}” has more than an origin. Keep only the scheme, host and port: ${url.origin}.` };
    }
    const origin = url.origin;
    if (!apiServerSettingsSchema.shape.allowedOrigins.element.safeParse(origin).success) {
      return { error: `${where}“${line}” is not an origin. Write the scheme, host and port, e.g. http://localhost:3000.` };
    }
    if (!origins.includes(origin)) origins.push(origin);
  }
  if (origins.length > MAX_ORIGINS || !apiServerSettingsSchema.shape.allowedOrigins.safeParse(origins).success) return { error: `At most ${MAX_ORIGINS} origins.` };
  return { origins };
}

/**
 * Validates the section against the contract and returns the settings to store (`current`, the stored
 * ones, gives `enabled` and `apiKey`, which the switch and Regenerate change at once), or the errors.
 */
export function fromApiForm(form: ApiForm, current: ApiServerSettings): { api: ApiServerSettings } | { errors: ApiErrors } {
  const errors: ApiErrors = {};
  const port = /^\s*\d+\s*$/.test(form.port) ? Number(form.port) : Number.NaN;
  if (!apiServerSettingsSchema.shape.port.safeParse(port).success) errors.apiPort = 'A whole number from 1024 to 65535.';
  const origins = parseOrigins(form.allowedOrigins);
  if ('error' in origins) errors.apiOrigins = origins.error;
  if (Object.keys(errors).length > 0 || 'error' in origins) return { errors };
  return { api: { ...current, port, keepText: form.keepText, allowedOrigins: origins.origins } };
}

/** `ww-•••…•••abcd`: the key's prefix and its last four characters, so two keys can be told apart. */
export function maskKey(key: string): string {
  const prefix = /^[a-z]{1,4}-/i.exec(key)?.[0] ?? '';
  return `${prefix}${'•'.repeat(24)}${key.slice(-4)}`;
}

/** The base URL clients use: the running server's, else the one it will have on the port in the form. */
function baseUrlOf(status: ApiServerStatus | null, port: string): string {
  if (status?.state === 'running' && status.baseUrl) return status.baseUrl;
  const p = /^\s*\d+\s*$/.test(port) ? Number(port) : defaultApiPort;
  return `http://127.0.0.1:${p}/v1`;
}

/** The curl example: a chat completion with model "auto" (the power governor chooses). */
export function curlExample(baseUrl: string, key: string): string {
  return [
    `curl ${baseUrl}/chat/completions \\`,
    `  -H "Authorization: Bearer ${key}" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d '{"model": "auto",`,
    `       "messages": [{"role": "user", "content": "Hello"}]}'`,
  ].join('\n');
}

function CopyButton({ text, label, testId }: { text: string; label: string; testId?: string }) {
  const { copied, copy } = useCopy();
  return (
    <button type="button" className={`button button--ghost button--small${copied ? ' is-copied' : ''}`} aria-label={copied ? `${label}: copied` : label} data-testid={testId} onClick={() => copy(text)}>
      {copied ? <IconCheck size={14} /> : <IconCopy size={14} />}
      {copied ? 'Copied' : 'Copy'}
    </button>
  );
}

/** `text` as a sentence: trimmed, with a capital and a full stop. */
function sentence(text: string): string {
  const t = text.trim();
  if (!t) return t;
  const capital = t[0]!.toUpperCase() + t.slice(1);
  return /[.!?…]$/.test(capital) ? capital : `${capital}.`;
}

/** On, off, starting, running at …, or why it could not start. */
function StatusLine({ enabled, status, pending, onRetry }: { enabled: boolean; status: ApiServerStatus | null; pending: 'on' | 'off' | null; onRetry: () => void }) {
  if (pending) {
    return (
      <p className="api-status" data-testid="api-status" data-state="pending" role="status">
        <span className="api-status__dot is-pending" aria-hidden="true" />
        {pending === 'on' ? 'Starting…' : 'Stopping…'}
      </p>
    );
  }
  if (!status) {
    return (
      <p className="api-status" data-testid="api-status" data-state="unknown" role="status">
        <span className="api-status__dot" aria-hidden="true" />
        Checking…
      </p>
    );
  }
  if (status.state === 'error') {
    const reason = sentence(status.error ?? 'No reason was given.');
    // The reason often says what to do already ("choose another port").
    const advice = /another port|choose|change/i.test(reason) ? 'Then try again.' : 'Choose another port and try again.';
    return (
      <div className="api-status api-status--error" data-testid="api-status" data-state="error" role="alert">
        <IconAlert size={16} className="api-status__icon" />
        <div className="api-status__text">
          <strong>The API could not start.</strong> {reason}
          <span className="api-status__advice"> {advice}</span>
        </div>
        <button type="button" className="button button--ghost button--small" data-testid="api-retry" onClick={onRetry}>
          Try again
        </button>
      </div>
    );
  }
  if (status.state === 'running' && status.baseUrl) {
    const served = `${status.servedRequests} ${status.servedRequests === 1 ? 'request' : 'requests'} answered`;
    return (
      <div className="api-status api-status--running" data-testid="api-status" data-state="running" role="status">
        <span className="api-status__dot is-running" aria-hidden="true" />
        <span className="api-status__text">
          Running at{' '}
          <code className="path" data-testid="api-base-url">
            {status.baseUrl}
          </code>
          <span className="api-status__counts">
            {served}
            {status.activeRequests > 0 && ` · ${status.activeRequests} in progress`}
          </span>
        </span>
        <CopyButton text={status.baseUrl} label="Copy the base URL" testId="api-copy-url" />
      </div>
    );
  }
  return (
    <p className="api-status" data-testid="api-status" data-state="off" role="status">
      <span className="api-status__dot" aria-hidden="true" />
      {enabled ? 'Turned on, but the server is not running.' : 'Off. Other programs cannot reach Wattwise.'}
    </p>
  );
}

/**
 * Settings → Local API: the OpenAI-compatible server on 127.0.0.1. The switch and Regenerate act at once
 * (like LM Studio's and Jan's server pages: a key only exists once the API is on); the port, the text
 * setting and the origins are saved with the dialog's Save, or with the switch when it is turned on.
 */
export function ApiSettings({
  form,
  errors,
  idPrefix,
  onChange,
  onErrors,
}: {
  form: ApiForm;
  errors: ApiErrors;
  idPrefix: string;
  onChange: <K extends keyof ApiForm>(key: K, value: ApiForm[K]) => void;
  onErrors: (errors: ApiErrors) => void;
}) {
  const store = useAppStore();
  const api = useAppState((s) => s.settings?.api);
  const status = useAppState((s) => s.apiStatus);
  const statusError = useAppState((s) => s.apiStatusError);
  const [pending, setPending] = useState<'on' | 'off' | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [showKey, setShowKey] = useState(false);
  const [confirmRegenerate, setConfirmRegenerate] = useState(false);
  const [regenerating, setRegenerating] = useState(false);
  const [regenerateError, setRegenerateError] = useState<string | null>(null);
  const exampleCopy = useCopy();
  if (!api) return null;

  const f = (name: string) => `${idPrefix}-api-${name}`;
  const enabled = api.enabled;

  const toggle = async () => {
    setActionError(null);
    const next = !enabled;
    let patch: Partial<ApiServerSettings> = { enabled: next };
    if (next) {
      // Turning on starts the server with what the section says (a port typed just before included).
      const checked = fromApiForm(form, api);
      if ('errors' in checked) {
        onErrors(checked.errors);
        return;
      }
      patch = { ...checked.api, enabled: true };
    }
    setPending(next ? 'on' : 'off');
    const result = await store.updateApiSettings(patch);
    setPending(null);
    if (!result.ok) setActionError(describeError(result.error));
  };

  const retry = async () => {
    setActionError(null);
    // Again, with the port in the field (the user may just have changed it).
    const checked = fromApiForm(form, api);
    if ('errors' in checked) {
      onErrors(checked.errors);
      return;
    }
    setPending('on');
    const result = await store.updateApiSettings({ ...checked.api, enabled: true });
    setPending(null);
    if (!result.ok) setActionError(describeError(result.error));
  };

  const regenerate = async () => {
    setRegenerating(true);
    setRegenerateError(null);
    const result = await store.regenerateApiKey();
    setRegenerating(false);
    if (!result.ok) {
      setRegenerateError(describeError(result.error));
      return;
    }
    setConfirmRegenerate(false);
  };

  const key = api.apiKey;
  const baseUrl = baseUrlOf(status, form.port);
  const storedPort = String(api.port);
  const portChanged = form.port.trim() !== storedPort && enabled;

  return (
    <section className="settings__section api-settings" aria-labelledby={f('heading')} data-testid="api-settings">
      <h3 className="settings__heading" id={f('heading')}>
        Local API
      </h3>
      <p className="settings__intro">
        An OpenAI-compatible server on this computer, so other apps and scripts can use Wattwise’s models. It listens on 127.0.0.1 only: other computers
        cannot connect.
      </p>

      <div className="field">
        <span className="field__label" id={f('enabled-label')}>
          Serve the API
        </span>
        <div className="field__control">
          <div className="api-switch-row">
            <button
              type="button"
              role="switch"
              className="switch"
              aria-checked={enabled}
              aria-labelledby={f('enabled-label')}
              aria-describedby={f('status')}
              data-testid="api-enabled"
              disabled={pending !== null}
              onClick={() => void toggle()}
            >
              <span className="switch__thumb" aria-hidden="true" />
            </button>
            <span className="api-switch-row__state" aria-hidden="true">
              {enabled ? 'On' : 'Off'}
            </span>
          </div>
          <div id={f('status')} className="api-status-slot">
            <StatusLine enabled={enabled} status={status} pending={pending} onRetry={() => void retry()} />
          </div>
          {statusError && !status && (
            <p className="field__error" role="alert">
              {describeError(statusError)}
            </p>
          )}
          {actionError && (
            <p className="field__error" role="alert" data-testid="api-action-error">
              {actionError}
            </p>
          )}
        </div>
      </div>

      <FieldRow
        label="Port"
        htmlFor={f('port')}
        error={errors.apiPort}
        hint={portChanged ? 'Saved with Save: the server restarts on the new port.' : `On 127.0.0.1. The default is ${defaultApiPort}.`}
      >
        <div className="input-unit">
          <input
            id={f('port')}
            className="input"
            inputMode="numeric"
            data-testid="api-port"
            value={form.port}
            aria-invalid={errors.apiPort ? true : undefined}
            aria-describedby={errors.apiPort ? `${f('port')}-error` : undefined}
            onChange={(e) => onChange('port', e.target.value)}
          />
        </div>
      </FieldRow>

      <div className="field">
        <span className="field__label" id={f('key-label')}>
          API key
        </span>
        <div className="field__control">
          {key ? (
            <>
              <div className="api-key" role="group" aria-labelledby={f('key-label')}>
                <input
                  id={f('key')}
                  className="input input--mono api-key__value"
                  readOnly
                  spellCheck={false}
                  aria-labelledby={f('key-label')}
                  data-testid="api-key"
                  data-shown={showKey ? 'true' : 'false'}
                  value={showKey ? key : maskKey(key)}
                  onFocus={(e) => showKey && e.currentTarget.select()}
                />
                <div className="api-key__actions">
                  <button
                    type="button"
                    className="button button--ghost button--small"
                    aria-label={showKey ? 'Hide the API key' : 'Show the API key'}
                    data-testid="api-key-show"
                    onClick={() => setShowKey((v) => !v)}
                  >
                    {showKey ? <IconEyeOff size={14} /> : <IconEye size={14} />}
                    {showKey ? 'Hide' : 'Show'}
                  </button>
                  <CopyButton text={key} label="Copy the API key" testId="api-key-copy" />
                  <button
                    type="button"
                    className="button button--ghost button--small"
                    aria-label="Regenerate the API key"
                    data-testid="api-key-regenerate"
                    onClick={() => {
                      setRegenerateError(null);
                      setConfirmRegenerate(true);
                    }}
                  >
                    <IconRefresh size={14} />
                    Regenerate…
                  </button>
                </div>
              </div>
              <p className="field__hint">Programs send it as <code className="path">Authorization: Bearer &lt;key&gt;</code>. Keep it private.</p>
            </>
          ) : (
            <p className="api-key__none" data-testid="api-key-none">
              A key is made when you turn the API on for the first time.
            </p>
          )}
        </div>
      </div>

      <div className="field">
        <span className="field__label" id={f('history-label')}>
          History
        </span>
        <div className="field__control">
          <label className="gov-check api-check" htmlFor={f('keep-text')}>
            <input
              id={f('keep-text')}
              type="checkbox"
              data-testid="api-keep-text"
              checked={form.keepText}
              aria-describedby={f('keep-text-hint')}
              onChange={(e) => onChange('keepText', e.target.checked)}
            />
            Keep the text of API requests in history
          </label>
          <p className="field__hint" id={f('keep-text-hint')}>
            When off, only each request’s tokens and energy are kept. Energy is always kept: API requests appear in the Energy view, one entry per day.
          </p>
        </div>
      </div>

      <FieldRow
        label="Allowed browser origins"
        htmlFor={f('origins')}
        error={errors.apiOrigins}
        hint={
          <>
            One per line, e.g. <code className="path">http://localhost:3000</code>. No origin is allowed by default: web pages cannot call the API. Programs such as
            curl, Python or an editor only need the key.
          </>
        }
      >
        <textarea
          id={f('origins')}
          className="input textarea input--mono api-origins"
          rows={2}
          spellCheck={false}
          placeholder="None"
          data-testid="api-origins"
          value={form.allowedOrigins}
          aria-invalid={errors.apiOrigins ? true : undefined}
          aria-describedby={errors.apiOrigins ? `${f('origins')}-error` : undefined}
          onChange={(e) => onChange('allowedOrigins', e.target.value)}
        />
      </FieldRow>

      <div className="field field--stacked">
        <span className="field__label" id={f('example-label')}>
          Try it
        </span>
        <div className="field__control">
          <div className="code-block api-example" role="group" aria-labelledby={f('example-label')}>
            <div className="code-block__header">
              <span className="code-block__lang">curl</span>
              <button
                type="button"
                className={`code-block__copy${exampleCopy.copied ? ' is-copied' : ''}`}
                aria-label={exampleCopy.copied ? 'Example copied' : 'Copy the example'}
                data-testid="api-example-copy"
                onClick={() => exampleCopy.copy(curlExample(baseUrl, key ?? '<key>'))}
              >
                {exampleCopy.copied ? 'Copied' : 'Copy'}
              </button>
            </div>
            <pre data-testid="api-example">
              <code>{curlExample(baseUrl, key ? (showKey ? key : maskKey(key)) : '<key>')}</code>
            </pre>
          </div>
          <p className="field__hint">
            Model <code className="path">auto</code> lets the power governor choose the model for each request. Any OpenAI client works with this base URL and key.
          </p>
        </div>
      </div>

      <Dialog
        open={confirmRegenerate}
        onClose={() => setConfirmRegenerate(false)}
        title="Regenerate the API key?"
        testId="regenerate-key-dialog"
        description={<>Apps using the current key will stop working until you give them the new one.</>}
        footer={
          <>
            {regenerateError && (
              <p className="dialog__error" role="alert">
                {regenerateError}
              </p>
            )}
            <button type="button" className="button button--ghost" onClick={() => setConfirmRegenerate(false)}>
              Cancel
            </button>
            <button type="button" className="button button--danger" data-testid="confirm-regenerate-key" disabled={regenerating} onClick={() => void regenerate()}>
              {regenerating ? 'Regenerating…' : 'Regenerate key'}
            </button>
          </>
        }
      />
    </section>
  );
}
