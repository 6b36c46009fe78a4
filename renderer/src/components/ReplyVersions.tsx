import { useId, useState } from 'react';
import type { Message, MessageVersion } from '@shared/contract';
import { formatEnergyJ, formatJPerToken } from '@shared/format';
import { formatMs } from '../lib/format';
import { useAppState, useAppStore } from '../state/context';
import { IconChevronDown } from './Icons';

/** The name of the model that wrote a version (as the picker names it when the file is still there). */
function useModelName(version: MessageVersion): string {
  const model = useAppState((s) => s.models?.find((m) => m.path === version.stats?.modelPath));
  if (!version.stats) return 'No reply';
  return model ? model.name : version.stats.modelName;
}

/** One version's cost in words: "12.4 J · 0.052 J/token · 3.2 s". */
function costLine(version: MessageVersion): string {
  const parts: string[] = [];
  if (version.energy) {
    parts.push(`${version.energy.measured ? '' : '≈'}${formatEnergyJ(version.energy.energyJ)}`);
    if (version.energy.energyJPerToken != null) parts.push(`${formatJPerToken(version.energy.energyJPerToken)}`);
  }
  if (version.stats) parts.push(formatMs(Math.max(0, version.stats.endedAt - version.stats.startedAt)));
  return parts.length > 0 ? parts.join(' · ') : version.status === 'error' ? 'failed' : '—';
}

function VersionRow({ version, index, shown, disabled, onShow }: { version: MessageVersion; index: number; shown: boolean; disabled: boolean; onShow: () => void }) {
  const name = useModelName(version);
  const quant = version.stats?.quantization;
  return (
    <li>
      <button
        type="button"
        className={`versions__row${shown ? ' is-shown' : ''}`}
        aria-current={shown ? 'true' : undefined}
        disabled={disabled || shown}
        onClick={onShow}
        data-testid="version-row"
      >
        <span className="versions__index">{index + 1}</span>
        <span className="versions__model">
          {name}
          {quant ? <span className="badge badge--quant">{quant}</span> : null}
        </span>
        <span className="versions__cost">{costLine(version)}</span>
      </button>
    </li>
  );
}

/**
 * "‹ 1/2 ›" under a reply that has alternatives (Regenerate, "Try with…"), and a "Compare" table of
 * every version with its model, J, J/token and time, so the cost of a cheaper model's answer is visible
 * next to the answer itself. Choosing a version shows it (and makes it the history later replies see).
 */
export function ReplyVersions({ message, busy }: { message: Message; busy: boolean }) {
  const store = useAppStore();
  const [open, setOpen] = useState(false);
  const tableId = useId();
  const versions = message.alternatives ?? [];
  if (versions.length < 2) return null;
  const index = Math.max(0, versions.findIndex((v) => v.id === message.id));
  const show = (i: number) => {
    const target = versions[i];
    if (target && target.id !== message.id) void store.selectAlternative(target.id);
  };
  return (
    <div className="versions" data-testid="reply-versions">
      <div className="versions__nav" role="group" aria-label="Versions of this reply">
        <button type="button" className="icon-button icon-button--small versions__step" aria-label="Previous version" disabled={busy || index === 0} onClick={() => show(index - 1)}>
          ‹
        </button>
        <span className="versions__count" data-testid="version-count" aria-live="polite">
          {index + 1}/{versions.length}
        </span>
        <button
          type="button"
          className="icon-button icon-button--small versions__step"
          aria-label="Next version"
          disabled={busy || index === versions.length - 1}
          onClick={() => show(index + 1)}
        >
          ›
        </button>
        <button
          type="button"
          className={`versions__compare${open ? ' is-open' : ''}`}
          aria-expanded={open}
          aria-controls={tableId}
          onClick={() => setOpen((o) => !o)}
          data-testid="compare-versions"
        >
          Compare
          <IconChevronDown size={12} />
        </button>
      </div>
      {open && (
        <ol className="versions__table" id={tableId} aria-label="Every version with its model and energy">
          {versions.map((v, i) => (
            <VersionRow key={v.id} version={v} index={i} shown={v.id === message.id} disabled={busy} onShow={() => show(i)} />
          ))}
        </ol>
      )}
    </div>
  );
}
