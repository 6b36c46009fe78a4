import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { getBridge } from './api/bridge';
import { App } from './App';
import { StoreProvider } from './state/context';
import { AppStore } from './state/store';
import './styles/base.css';
import './styles/app.css';
import './styles/composer.css';
import './styles/markdown.css';
import './styles/energy.css';
import './styles/governor.css';
import './styles/library.css';
import './styles/presets.css';
import './styles/versions.css';
import './styles/data.css';

// A new link pasted into this tab (same page, new #token=...) replaces the stored token.
window.addEventListener('hashchange', () => {
  if (/(^#|&)token=/.test(window.location.hash)) window.location.reload();
});

const store = new AppStore(getBridge());
const root = document.getElementById('root');
if (!root) throw new Error('#root is missing from index.html');
createRoot(root).render(
  <StrictMode>
    <StoreProvider store={store}>
      <App />
    </StoreProvider>
  </StrictMode>,
);
