import { useEffect, useState, useSyncExternalStore } from 'react';
import { getAuthProblem, onAuthProblem } from './api/bridge';
import { describeError } from './api/errors';
import { ChatView } from './components/ChatView';
import { AuthScreen, FullPage, Splash } from './components/FullPage';
import { SettingsDialog } from './components/SettingsDialog';
import { Sidebar } from './components/Sidebar';
import { useTheme } from './hooks/useTheme';
import { useAppState, useAppStore } from './state/context';

function useAuthProblem() {
  return useSyncExternalStore(onAuthProblem, getAuthProblem);
}

export function App() {
  const store = useAppStore();
  const phase = useAppState((s) => s.phase);
  const loadError = useAppState((s) => s.loadError);
  const theme = useAppState((s) => s.settings?.theme);
  const authProblem = useAuthProblem();
  const [settingsOpen, setSettingsOpen] = useState(false);
  useTheme(theme);

  useEffect(() => {
    void store.start();
    return () => store.dispose();
  }, [store]);

  // Ctrl/Cmd+Shift+O starts a new chat; Ctrl/Cmd+, opens settings.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      if (mod && e.shiftKey && e.key.toLowerCase() === 'o') {
        e.preventDefault();
        store.newChat();
      } else if (mod && e.key === ',') {
        e.preventDefault();
        setSettingsOpen(true);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [store]);

  if (authProblem) return <AuthScreen problem={authProblem} />;
  if (phase === 'loading') return <Splash />;
  if (phase === 'failed') {
    return (
      <FullPage title="Wattwise could not start">
        <p className="full-page__text">{loadError ? describeError(loadError) : 'The backend did not answer.'}</p>
        <button type="button" className="button button--primary" onClick={() => void store.start()}>
          Try again
        </button>
      </FullPage>
    );
  }
  return (
    <div className="app">
      <Sidebar onOpenSettings={() => setSettingsOpen(true)} />
      <ChatView />
      <SettingsDialog open={settingsOpen} onClose={() => setSettingsOpen(false)} />
    </div>
  );
}
