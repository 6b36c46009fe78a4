import type { ReactNode } from 'react';
import { useAppStore } from '../state/context';
import { IconArrowLeft } from './Icons';

/** The header of a main-area view (Energy, Governor): a back-to-chat button, the title, and `children` on the right. */
export function ViewHeader({ title, children }: { title: string; children?: ReactNode }) {
  const store = useAppStore();
  return (
    <header className="chat__header energy-view__header">
      <button type="button" className="icon-button energy-view__back" aria-label="Back to the chat" title="Back to the chat" onClick={() => store.setView('chat')}>
        <IconArrowLeft size={16} />
      </button>
      <h1 className="chat__title">{title}</h1>
      {children}
    </header>
  );
}
