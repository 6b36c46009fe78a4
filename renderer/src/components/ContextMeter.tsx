import { useId } from 'react';
import type { ContextUsage } from '@shared/contract';
import { contextView } from '../lib/contextUsage';
import { IconAlert } from './Icons';

function whole(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/**
 * The context meter beside the composer's hint line: "1,234 / 2,048 tokens" ("≈" when estimated) and a
 * slim bar (history + draft solid, the reply's reserve lighter), in the warning colour past 85%
 * (`contextWarnFraction`) and when full. Hover or focus shows the breakdown. Renders nothing until `usage` is known.
 */
export function ContextMeter({ usage }: { usage: ContextUsage | null }) {
  const detailsId = useId();
  if (!usage) return null;
  const view = contextView(usage);
  const percent = Math.round((view.neededTokens / view.contextSize) * 100);
  const summary = `Context: ${view.exact ? '' : 'about '}${whole(view.usedTokens)} of ${whole(view.contextSize)} tokens used, ${whole(usage.replyReserveTokens)} kept for the reply`;
  return (
    <div
      className={`context-meter context-meter--${view.tone}`}
      data-testid="context-meter"
      data-tone={view.tone}
      data-exact={view.exact}
      tabIndex={0}
      role="group"
      aria-label={summary}
      aria-describedby={detailsId}
    >
      <span
        className="context-meter__bar"
        role="meter"
        aria-label="Context used"
        aria-valuemin={0}
        aria-valuemax={view.contextSize}
        aria-valuenow={Math.min(view.usedTokens, view.contextSize)}
        aria-valuetext={view.label}
      >
        <span className="context-meter__fill" style={{ width: `${view.usedFraction * 100}%` }} />
        <span className="context-meter__reserve" style={{ left: `${view.usedFraction * 100}%`, width: `${view.reserveFraction * 100}%` }} />
      </span>
      <span className="context-meter__label" data-testid="context-meter-label">
        {view.label}
      </span>
      <div className="context-meter__details" id={detailsId} role="tooltip">
        <p className="context-meter__heading">
          <span>{view.tone === 'ok' ? 'Context window' : view.tone === 'warn' ? 'Context nearly full' : 'Context over the limit'}</span>
          <span className="context-meter__percent">{percent}%</span>
        </p>
        <dl>
          <dt>Conversation</dt>
          <dd>{whole(usage.historyTokens)}</dd>
          <dt>Your message</dt>
          <dd>{whole(usage.draftTokens)}</dd>
          <dt>Kept for the reply</dt>
          <dd>{whole(usage.replyReserveTokens)}</dd>
          <dt>Context size</dt>
          <dd>{whole(view.contextSize)}</dd>
        </dl>
        <p className="context-meter__foot">
          {view.exact ? "Counted with the model's tokenizer" : 'Estimated until the model is loaded'}; the percentage includes the room kept for the reply.
        </p>
      </div>
    </div>
  );
}

/**
 * The line above the composer when the next message does not fit the context: what the overflow setting
 * will do ("Oldest messages will be dropped to make room"…), or that the message alone is too long.
 * Renders nothing while it fits.
 */
export function ContextNotice({ usage }: { usage: ContextUsage | null }) {
  if (!usage) return null;
  const view = contextView(usage);
  if (!view.notice) return null;
  return (
    <div className={`context-notice context-notice--${view.tone}`} role="status" data-testid="context-notice">
      <IconAlert size={14} />
      <span>{view.notice}.</span>
    </div>
  );
}
