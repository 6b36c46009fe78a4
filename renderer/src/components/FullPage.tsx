import type { ReactNode } from 'react';
import type { AuthProblem } from '../api/bridge';
import { BoltMark, IconLock } from './Icons';

export function FullPage({ icon, title, children }: { icon?: ReactNode; title: string; children: ReactNode }) {
  return (
    <div className="full-page">
      <div className="full-page__card">
        <div className="full-page__icon">{icon ?? <BoltMark size={40} />}</div>
        <h1 className="full-page__title">{title}</h1>
        {children}
      </div>
    </div>
  );
}

export function AuthScreen({ problem }: { problem: AuthProblem }) {
  return (
    <FullPage icon={<IconLock size={30} />} title={problem === 'missing-token' ? 'Access token needed' : 'This link is no longer valid'}>
      <p className="full-page__text">
        Open the link printed by <code>npm run web</code>, it contains the access token.
      </p>
      <p className="full-page__muted">
        {problem === 'missing-token'
          ? 'Wattwise only answers pages that carry the token, so no other website or app on this computer can use it.'
          : 'The server did not accept the token of this page. It changes each time the server starts.'}
      </p>
      <pre className="full-page__example">http://127.0.0.1:PORT/#token=…</pre>
    </FullPage>
  );
}

export function Splash() {
  return (
    <div className="full-page full-page--splash" aria-busy="true" aria-label="Starting Wattwise">
      <div className="splash">
        <BoltMark size={44} />
      </div>
    </div>
  );
}
