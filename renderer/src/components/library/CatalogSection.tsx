import { useId, useState } from 'react';
import type { CatalogOffer } from '@shared/contract';
import { describeError } from '../../api/errors';
import { formatBytes, formatJPerToken, formatPowerW, formatRate } from '../../lib/format';
import { energyApprox } from '../../lib/governor';
import { defaultAscending, sortOffers, type CatalogSortKey } from '../../lib/library';
import { useAppState, useAppStore } from '../../state/context';
import { sensorMeasured } from '../../state/store';
import { IconChevronDown } from '../Icons';
import { QuantBadge } from '../ModelPicker';
import { CostSourceMark, QualityValue } from '../governor/marks';
import { DownloadField } from './DownloadField';
import { OfferAction } from './OfferAction';

const columns: { key: CatalogSortKey | null; label: string; numeric?: boolean; title?: string }[] = [
  { key: 'name', label: 'Model' },
  { key: 'size', label: 'Size', numeric: true },
  { key: 'speed', label: 'Speed', numeric: true, title: 'Predicted decode speed on this computer' },
  { key: null, label: 'Power', numeric: true, title: 'Predicted power above idle while writing' },
  { key: 'energy', label: 'J/token', numeric: true, title: 'Predicted energy per generated token' },
  { key: 'quality', label: 'Quality', title: 'On one scale across families; the tag says where it comes from' },
  { key: null, label: 'Memory', title: 'Model plus a context of the configured size, against this computer’s memory' },
  { key: null, label: '' },
];

/** One catalog row: the file, what it would cost here, its quality, whether it fits, and its download. */
function OfferRow({ offer, sensor }: { offer: CatalogOffer; sensor: boolean }) {
  const { entry, predicted } = offer;
  return (
    <tr data-testid="catalog-row" data-uri={offer.uri} data-installed={offer.installedPath ? 'true' : 'false'} className={offer.fitsMemory ? undefined : 'is-too-large'}>
      <td className="catalog-table__model" title={`${entry.repo}/${entry.file} · ${entry.license}`}>
        <span className="catalog-table__name">
          {entry.name}
          <QuantBadge quantization={entry.quantization} />
        </span>
        <span className="catalog-table__repo">
          {entry.sizeLabel} · {entry.repo}
        </span>
      </td>
      <td className="is-numeric">{formatBytes(entry.sizeBytes)}</td>
      <td className="is-numeric">
        <span className="catalog-table__speed">
          {formatRate(predicted.decodeTokensPerSecond)}
          {predicted.source === 'measured' && <CostSourceMark source="measured" />}
        </span>
      </td>
      <td className="is-numeric">{formatPowerW(predicted.powerW)}</td>
      <td className="is-numeric">
        {energyApprox(predicted.source, sensor)}
        {formatJPerToken(predicted.energyJPerToken).replace(/ J\/token$/, '')}
      </td>
      <td className="catalog-table__quality">
        <QualityValue candidate={offer} />
      </td>
      <td className={`catalog-table__fits${offer.fitsMemory ? '' : ' is-no'}`} title={`About ${formatBytes(offer.memoryBytes)} with the context`}>
        {offer.fitsMemory ? 'Fits' : 'Too large'}
        <span className="catalog-table__memory">{formatBytes(offer.memoryBytes)}</span>
      </td>
      <td className="catalog-table__action">
        <OfferAction offer={offer} />
      </td>
    </tr>
  );
}

/**
 * The catalog: every downloadable file with its predicted speed, power and J/token on this computer, its
 * quality, whether it fits in memory, and a Download button; sortable by size, speed, J/token and
 * quality; "Download from Hugging Face or a URL" for anything else.
 */
export function CatalogSection() {
  const store = useAppStore();
  const offers = useAppState((s) => s.library.offers);
  const error = useAppState((s) => s.library.catalogError);
  const sensor = useAppState(sensorMeasured);
  const [sort, setSort] = useState<{ key: CatalogSortKey; ascending: boolean }>({ key: 'size', ascending: true });
  const [fitsOnly, setFitsOnly] = useState(false);
  const fitsId = useId();

  const toggleSort = (key: CatalogSortKey) =>
    setSort((s) => (s.key === key ? { key, ascending: !s.ascending } : { key, ascending: defaultAscending(key) }));

  const all = offers ?? [];
  const tooLarge = all.filter((o) => !o.fitsMemory).length;
  const rows = sortOffers(
    all.filter((o) => !fitsOnly || o.fitsMemory),
    sort.key,
    sort.ascending,
  );

  return (
    <section className="card card--flush library-card" aria-labelledby="catalog-title" data-testid="catalog">
      <header className="card__header">
        <div className="card__titles">
          <h2 className="card__title" id="catalog-title">
            Catalog
          </h2>
          <p className="card__subtitle">
            {offers === null ? 'Loading the catalog…' : `${all.length} files you can download · speed, power and energy predicted for this computer (≈) until measured here`}
          </p>
        </div>
        {tooLarge > 0 && (
          <label className="gov-check catalog-fits" htmlFor={fitsId}>
            <input id={fitsId} type="checkbox" checked={fitsOnly} data-testid="catalog-fits-only" onChange={(e) => setFitsOnly(e.target.checked)} />
            Only what fits in memory
          </label>
        )}
      </header>
      <DownloadField />
      {error && !offers && (
        <div className="banner banner--error energy-error library-card__banner" role="alert">
          <span>The catalog could not be read. {describeError(error)}</span>
          <button type="button" className="button button--ghost button--small" onClick={() => void store.refreshLibrary()}>
            Try again
          </button>
        </div>
      )}
      {offers && (
        <div className="table-scroll library-table-scroll catalog-scroll">
          <table className="energy-table library-table catalog-table">
            <thead>
              <tr>
                {columns.map((c, i) => {
                  const sorted = c.key !== null && sort.key === c.key;
                  return (
                    <th
                      key={c.label || i}
                      scope="col"
                      className={c.numeric ? 'is-numeric' : undefined}
                      title={c.title}
                      aria-sort={sorted ? (sort.ascending ? 'ascending' : 'descending') : undefined}
                    >
                      {c.key ? (
                        <button type="button" className={`th-sort${sorted ? ' is-sorted' : ''}${sorted && sort.ascending ? ' is-ascending' : ''}`} onClick={() => toggleSort(c.key!)} data-testid={`catalog-sort-${c.key}`}>
                          {c.label}
                          <IconChevronDown size={12} className="th-sort__icon" />
                        </button>
                      ) : c.label ? (
                        c.label
                      ) : (
                        <span className="visually-hidden">Download</span>
                      )}
                    </th>
                  );
                })}
              </tr>
            </thead>
            <tbody>
              {rows.map((offer) => (
                <OfferRow key={offer.uri} offer={offer} sensor={sensor} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
