import type { Recommendation } from '@shared/contract';
import { describeQuality } from '@shared/qualityScale';
import { formatBytes, formatJPerToken, formatPowerW, formatRate } from '../../lib/format';
import { energyApprox, formatQuality } from '../../lib/governor';
import { rungName, splitUnit } from '../../lib/library';
import { useAppState } from '../../state/context';
import { sensorMeasured } from '../../state/store';
import { IconLeaf, IconRocket, IconScale } from '../Icons';
import { QuantBadge } from '../ModelPicker';
import { CostSourceMark, QualitySourceTag } from '../governor/marks';
import { OfferAction } from './OfferAction';

const icons = { saver: IconLeaf, balanced: IconScale, performance: IconRocket } as const;

/** One predicted figure: its label, the number large and the unit small (the whole text for tests and readers). */
function Figure({ label, testId, text }: { label: string; testId: string; text: string }) {
  const { value, unit } = splitUnit(text);
  return (
    <div>
      <dt>{label}</dt>
      <dd data-testid={testId} title={text}>
        <span className="rung__value">{value}</span>
        {unit && <span className="rung__unit"> {unit}</span>}
      </dd>
    </div>
  );
}

/** One rung of the recommended ladder: the variant, what it would cost here (before downloading), its quality, why, and its download. */
export function RungCard({ rung }: { rung: Recommendation }) {
  const sensor = useAppState(sensorMeasured);
  const { offer } = rung;
  const { entry, predicted } = offer;
  const Icon = icons[rung.profile];
  return (
    <article className={`rung rung--${rung.profile}`} data-testid="rung" data-profile={rung.profile} data-uri={offer.uri} aria-labelledby={`rung-${rung.profile}`}>
      <header className="rung__head">
        <span className="rung__profile">
          <Icon size={14} />
          {rungName(rung.profile)}
        </span>
        <CostSourceMark source={predicted.source} />
      </header>
      <h3 className="rung__name" id={`rung-${rung.profile}`}>
        <span>{entry.name}</span>
        <QuantBadge quantization={entry.quantization} />
      </h3>
      <p className="rung__facts">
        {formatBytes(entry.sizeBytes)}
        {` · ${entry.sizeLabel} params`}
        {!offer.fitsMemory && <span className="rung__warn"> · may not fit in memory</span>}
      </p>
      <dl className="rung__figures">
        <Figure label="Speed" testId="rung-speed" text={formatRate(predicted.decodeTokensPerSecond)} />
        <Figure label="Power" testId="rung-power" text={formatPowerW(predicted.powerW)} />
        <Figure label="Energy" testId="rung-energy" text={`${energyApprox(predicted.source, sensor)}${formatJPerToken(predicted.energyJPerToken)}`} />
      </dl>
      <div className="rung__quality" data-testid="rung-quality">
        <span className="rung__quality-line">
          <span className="rung__quality-label">Quality</span>
          <span className="rung__quality-number">{formatQuality(offer.quality)}</span>
          <QualitySourceTag candidate={offer} />
        </span>
        <span className="rung__quality-words">{describeQuality(offer.quality)}</span>
      </div>
      <p className="rung__reason" data-testid="rung-reason">
        {rung.reason}
      </p>
      <div className="rung__action">
        <OfferAction offer={offer} layout="wide" />
      </div>
    </article>
  );
}
