import { useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import { getAuthProblem, onAuthProblem } from './api/bridge';
import { describeError } from './api/errors';
import { ChatView } from './components/ChatView';
import { EnergyPanel } from './components/EnergyPanel';
import { EnergyView } from './components/EnergyView';
import { GovernorView } from './components/GovernorView';
import { ModelsView } from './components/library/ModelsView';
import { AuthScreen, FullPage, Splash } from './components/FullPage';
import { SettingsDialog } from './components/SettingsDialog';
import { Sidebar } from './components/Sidebar';
import { useNarrowWindow } from './hooks/useMediaQuery';
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
  const view = useAppState((s) => s.view);
  const panelOpen = useAppState((s) => s.energyPanelOpen);
  const panelOverlay = useAppState((s) => s.energyPanelOverlay);
  const narrow = useNarrowWindow();
  const [settingsOpen, setSettingsOpen] = useState(false);
  useTheme(theme);
  const closePanel = useCallback(() => store.toggleEnergyPanel(narrow, false), [store, narrow]);

  // Leaving the narrow layout drops the overlay (the column's own preference applies again).
  useEffect(() => {
    if (!narrow && panelOverlay) store.toggleEnergyPanel(true, false);
  }, [narrow, panelOverlay, store]);

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
  // The energy column sits beside the chat in wide windows and over it in narrow ones; the Energy and
  // Governor and Models views have the whole main area.
  const showPanel = view === 'chat' && (narrow ? panelOverlay : panelOpen);
  const besideChat = showPanel && !narrow;
  return (
    <div className={`app${besideChat ? ' has-energy' : ''}`}>
      <Sidebar onOpenSettings={() => setSettingsOpen(true)} />
      {view === 'energy' ? <EnergyView /> : view === 'governor' ? <GovernorView /> : view === 'models' ? <ModelsView /> : <ChatView />}
      {showPanel && <EnergyPanel overlay={narrow} onClose={closePanel} />}
      <SettingsDialog open={settingsOpen} onClose={() => setSettingsOpen(false)} />
    </div>
  );
}
