import { useId } from 'react';
import type { Message, ReplyEnergy } from '@shared/contract';
import { replyEnergyDetail, replyEnergyLine } from '../lib/energyText';
import { IconBolt } from './Icons';

/**
 * The reply's energy in its footer: "12.4 J · 0.21 J/token · 9.8 W avg", or "≈12.4 J · … · estimated"
 * when it is an estimate. The tooltip (and the screen-reader description) says how it was attributed.
 */
export function MessageEnergy({ energy, stats }: { energy: ReplyEnergy; stats: Message['stats'] }) {
  const detailId = useId();
  const line = replyEnergyLine(energy, stats?.completionTokens ?? 0);
  const detail = replyEnergyDetail(energy);
  return (
    <span
      className={`msg-energy${energy.measured ? '' : ' is-estimated'}`}
      data-testid="message-energy"
      data-energy-j={energy.energyJ}
      data-measured={energy.measured ? 'true' : 'false'}
      title={detail}
      tabIndex={0}
      aria-describedby={detailId}
    >
      <IconBolt size={12} className="msg-energy__icon" />
      <span>{line}</span>
      {!energy.measured && <span className="tag tag--estimated">estimated</span>}
      <span id={detailId} className="visually-hidden">
        {detail}
      </span>
    </span>
  );
}
