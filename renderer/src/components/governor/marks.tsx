/**
 * Small marks the Governor view repeats: where a candidate's speed and energy come from, where its
 * quality comes from, a quality said as a number and in words, and one figure of the decision card.
 */
import type { ReactNode } from 'react';
import type { GovernorCandidate } from '@shared/contract';
import { describeQuality } from '@shared/qualityScale';
import { qualitySourceMeaning, qualitySourceText } from '../../lib/calibration';
import { formatQuality } from '../../lib/governor';

/** "measured" (this machine's replies or the bench) or "predicted" (the roofline model) for a candidate's speed and energy. */
export function CostSourceMark({ source }: { source: GovernorCandidate['predicted']['source'] }) {
  return source === 'measured' ? (
    <span className="tag tag--measured" title="Measured on this computer (its replies and the calibration bench)">
      measured
    </span>
  ) : (
    <span className="tag tag--estimated" title="Predicted by the roofline model (memory bandwidth and CPU speed); not measured here yet">
      predicted
    </span>
  );
}

/** The quality's source as a tag ("measured" / "published" / "estimated"); its basis in the tooltip. */
export function QualitySourceTag({ candidate }: { candidate: Pick<GovernorCandidate, 'qualitySource' | 'qualityBasis'> }) {
  const source = candidate.qualitySource;
  const kind = source === 'measured' ? 'measured' : source === 'published' ? 'published' : 'estimated';
  return (
    <span className={`tag tag--${kind}`} title={`${qualitySourceMeaning(source)}: ${candidate.qualityBasis}`} data-testid="quality-source" data-source={source}>
      {qualitySourceText(source)}
    </span>
  );
}

/**
 * A candidate's quality: the number on the scale, its source tag and, below, what it means ("like a 3B
 * model at full precision"). `layout` stacks them (table cells) or keeps them on one line.
 */
export function QualityValue({ candidate, layout = 'stacked' }: { candidate: Pick<GovernorCandidate, 'quality' | 'qualitySource' | 'qualityBasis'>; layout?: 'stacked' | 'inline' }) {
  const words = describeQuality(candidate.quality);
  return (
    <span className={`gov-quality gov-quality--${layout}`}>
      <span className="gov-quality__line">
        <span className="gov-quality__number">{formatQuality(candidate.quality)}</span>
        <QualitySourceTag candidate={candidate} />
      </span>
      <span className="gov-quality__words">{words}</span>
    </span>
  );
}

/** One figure of the decision card: a label, a value and a one-line note (its full text in the tooltip). */
export function Stat({ label, value, note, noteTitle }: { label: string; value: ReactNode; note?: string; noteTitle?: string }) {
  return (
    <div className="stat gov-stat">
      <div className="stat__label">{label}</div>
      <div className="stat__value">{value}</div>
      {note && (
        <div className="stat__note" title={noteTitle ?? note}>
          {note}
        </div>
      )}
    </div>
  );
}
