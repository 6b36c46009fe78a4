import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { describeError } from '../api/errors';
import { useDismiss } from '../hooks/useDismiss';
import { downloadText } from '../lib/download';
import { useAppState, useAppStore } from '../state/context';
import { IconDownload, IconFileText } from './Icons';

const FORMATS = [
  { format: 'md', name: 'Markdown', detail: 'Readable, with each reply’s model and energy' },
  { format: 'json', name: 'JSON', detail: 'Everything, to import into Wattwise again' },
] as const;

/**
 * The chat header's "Export…" menu: the open conversation as Markdown or JSON (`history.export`), saved as a
 * download. A menu button (arrow keys, Home/End, Esc closes and returns focus); an error stays in the menu.
 */
export function ExportMenu() {
  const store = useAppStore();
  const conversationId = useAppState((s) => (s.selectedId && s.detail?.conversation.id === s.selectedId ? s.selectedId : null));
  const hasMessages = useAppState((s) => (s.detail?.messages.length ?? 0) > 0);
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState<'md' | 'json' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const root = useRef<HTMLDivElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const trigger = useRef<HTMLButtonElement>(null);
  const menuId = useId();
  const disabled = conversationId === null || !hasMessages;

  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) trigger.current?.focus();
  };
  useDismiss(open, root, (reason) => close(reason === 'escape'), { claimEscape: true });

  useEffect(() => {
    if (!open) return;
    setError(null);
    menu.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
  }, [open]);

  // Another conversation opened: the menu was about the previous one.
  useEffect(() => close(false), [conversationId]);

  const run = async (format: 'md' | 'json') => {
    if (!conversationId) return;
    setBusy(format);
    setError(null);
    const result = await store.exportHistory(format, conversationId);
    setBusy(null);
    if (!result.ok) {
      setError(describeError(result.error));
      return;
    }
    downloadText(result.value.fileName, result.value.text, result.value.mimeType);
    close(true);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key === 'Tab') {
      setOpen(false);
      return;
    }
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp' && e.key !== 'Home' && e.key !== 'End') return;
    e.preventDefault();
    const items = [...(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const at = items.indexOf(document.activeElement as HTMLElement);
    const next = e.key === 'Home' ? 0 : e.key === 'End' ? items.length - 1 : (at + (e.key === 'ArrowDown' ? 1 : -1) + items.length) % items.length;
    items[next]?.focus();
  };

  return (
    <div className="export-menu" ref={root}>
      <button
        ref={trigger}
        type="button"
        className={`export-menu__trigger${open ? ' is-open' : ''}`}
        data-testid="export-menu"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        aria-label="Export this conversation"
        title={disabled ? 'Nothing to export yet' : 'Export this conversation…'}
        disabled={disabled}
        onClick={() => setOpen((o) => !o)}
        onKeyDown={(e) => {
          if ((e.key === 'ArrowDown' || e.key === 'ArrowUp') && !open) {
            e.preventDefault();
            setOpen(true);
          }
        }}
      >
        <IconDownload size={15} />
      </button>
      {open && (
        <div className="export-menu__menu" role="menu" id={menuId} aria-label="Export this conversation as" ref={menu} onKeyDown={onKeyDown}>
          <div className="export-menu__heading" aria-hidden="true">
            Export conversation
          </div>
          {FORMATS.map(({ format, name, detail }) => (
            <button
              key={format}
              type="button"
              role="menuitem"
              className="export-menu__item"
              data-testid={`export-${format}`}
              aria-busy={busy === format}
              disabled={busy !== null}
              onClick={() => void run(format)}
            >
              <IconFileText size={16} className="export-menu__icon" />
              <span className="export-menu__text">
                <span className="export-menu__name">
                  {name}
                  <span className="export-menu__ext">.{format}</span>
                </span>
                <span className="export-menu__detail">{busy === format ? 'Preparing…' : detail}</span>
              </span>
            </button>
          ))}
          {error && (
            <p className="export-menu__error" role="alert">
              {error}
            </p>
          )}
        </div>
      )}
    </div>
  );
}
