import { useCallback, useEffect, useRef, useState } from 'react';
import type { ConversationSummary } from '@shared/contract';
import { describeError } from '../api/errors';
import { useDebounced } from '../hooks/useDebounced';
import { useNow } from '../hooks/useNow';
import { groupByDate } from '../lib/format';
import { useAppState, useAppStore } from '../state/context';
import { ConversationRow } from './ConversationRow';
import { Dialog } from './Dialog';
import { BoltMark, IconChart, IconClose, IconCompose, IconGauge, IconGear, IconLayers, IconLock, IconSearch } from './Icons';
import { DownloadIndicator } from './library/DownloadIndicator';

export function Sidebar({ onOpenSettings }: { onOpenSettings: () => void }) {
  const store = useAppStore();
  const conversations = useAppState((s) => s.conversations);
  const conversationsError = useAppState((s) => s.conversationsError);
  const searchResults = useAppState((s) => s.searchResults);
  const searchError = useAppState((s) => s.searchError);
  const selectedId = useAppState((s) => s.selectedId);
  const active = useAppState((s) => s.active);
  const view = useAppState((s) => s.view);
  const now = useNow();

  const [query, setQuery] = useState('');
  const debounced = useDebounced(query, 200);
  const searchInput = useRef<HTMLInputElement>(null);
  useEffect(() => {
    void store.search(debounced);
  }, [debounced, store]);

  const [pendingDelete, setPendingDelete] = useState<ConversationSummary | null>(null);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const [deleting, setDeleting] = useState(false);
  const askDelete = useCallback((conversation: ConversationSummary) => {
    setDeleteError(null);
    setPendingDelete(conversation);
  }, []);

  const confirmDelete = async () => {
    if (!pendingDelete) return;
    setDeleting(true);
    const result = await store.remove(pendingDelete.id);
    setDeleting(false);
    if (result.ok) setPendingDelete(null);
    else setDeleteError(describeError(result.error));
  };

  // Ctrl/Cmd+K focuses the search box.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && !e.shiftKey && !e.altKey && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        searchInput.current?.focus();
        searchInput.current?.select();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const searching = query.trim().length > 0;
  const rows = (list: ConversationSummary[]) =>
    list.map((c) => (
      <ConversationRow key={c.id} conversation={c} selected={view === 'chat' && c.id === selectedId} now={now} streaming={Boolean(active[c.id])} onDelete={askDelete} />
    ));

  let listBody;
  if (searching) {
    if (searchError) listBody = <p className="sidebar__hint sidebar__hint--error">{describeError(searchError)}</p>;
    else if (searchResults === null) listBody = <p className="sidebar__hint">Searching…</p>;
    else if (searchResults.length === 0) listBody = <p className="sidebar__hint">No conversations match “{query.trim()}”.</p>;
    else
      listBody = (
        <section className="conv-group" aria-label="Search results">
          <h3 className="conv-group__title">
            {searchResults.length} {searchResults.length === 1 ? 'result' : 'results'}
          </h3>
          {rows(searchResults)}
        </section>
      );
  } else if (conversationsError && conversations.length === 0) {
    listBody = <p className="sidebar__hint sidebar__hint--error">{describeError(conversationsError)}</p>;
  } else if (conversations.length === 0) {
    listBody = <p className="sidebar__hint">Your conversations will appear here. They never leave this computer.</p>;
  } else {
    listBody = groupByDate(conversations, (c) => c.updatedAt, now).map(({ group, items }) => (
      <section key={group} className="conv-group" aria-label={group}>
        <h3 className="conv-group__title">{group}</h3>
        {rows(items)}
      </section>
    ));
  }

  return (
    <aside className="sidebar" aria-label="Conversations">
      <div className="sidebar__top">
        <div className="brand">
          <BoltMark size={24} />
          <span className="brand__name">Wattwise</span>
        </div>
        <button type="button" className="new-chat" data-testid="new-chat" onClick={() => store.newChat()}>
          <IconCompose size={16} />
          <span>New chat</span>
        </button>
        <button
          type="button"
          className={`side-nav${view === 'energy' ? ' is-current' : ''}`}
          data-testid="energy-nav"
          aria-current={view === 'energy' ? 'page' : undefined}
          onClick={() => store.setView('energy')}
        >
          <IconChart size={16} />
          <span>Energy</span>
        </button>
        <button
          type="button"
          className={`side-nav${view === 'governor' ? ' is-current' : ''}`}
          data-testid="governor-nav"
          aria-current={view === 'governor' ? 'page' : undefined}
          onClick={() => store.setView('governor')}
        >
          <IconGauge size={16} />
          <span>Governor</span>
        </button>
        <button
          type="button"
          className={`side-nav${view === 'models' ? ' is-current' : ''}`}
          data-testid="models-nav"
          aria-current={view === 'models' ? 'page' : undefined}
          onClick={() => store.setView('models')}
        >
          <IconLayers size={16} />
          <span>Models</span>
        </button>
        <div className="search">
          <IconSearch size={15} className="search__icon" />
          <input
            ref={searchInput}
            className="search__input"
            type="search"
            data-testid="search"
            placeholder="Search chats"
            aria-label="Search conversations"
            aria-keyshortcuts="Control+K"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape' && query) {
                e.preventDefault();
                setQuery('');
              }
            }}
          />
          {query && (
            <button type="button" className="search__clear" aria-label="Clear search" onClick={() => setQuery('')}>
              <IconClose size={13} />
            </button>
          )}
        </div>
      </div>
      <nav className="conv-list" aria-label="Conversation list">
        {listBody}
      </nav>
      <DownloadIndicator />
      <footer className="sidebar__footer">
        <span className="sidebar__private" title="Models run on this computer. Nothing is sent anywhere.">
          <IconLock size={13} />
          Private · offline
        </span>
        <button type="button" className="icon-button" data-testid="settings" aria-label="Settings" title="Settings" onClick={onOpenSettings}>
          <IconGear size={17} />
        </button>
      </footer>

      <Dialog
        open={pendingDelete !== null}
        onClose={() => setPendingDelete(null)}
        title="Delete conversation?"
        description={
          pendingDelete && (
            <>
              “<strong>{pendingDelete.title.trim() || 'New chat'}</strong>” and its {pendingDelete.messageCount}{' '}
              {pendingDelete.messageCount === 1 ? 'message' : 'messages'} will be deleted from this computer. This cannot be undone.
            </>
          )
        }
        footer={
          <>
            {deleteError && <p className="dialog__error" role="alert">{deleteError}</p>}
            <button type="button" className="button button--ghost" onClick={() => setPendingDelete(null)}>
              Cancel
            </button>
            <button type="button" className="button button--danger" data-testid="confirm-delete" disabled={deleting} onClick={() => void confirmDelete()}>
              Delete
            </button>
          </>
        }
      />
    </aside>
  );
}
