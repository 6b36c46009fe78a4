import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import type { PowerSourceInfo } from '@shared/contract';
import { describeError } from '../api/errors';
import { useCopy } from '../hooks/useCopy';
import { approx, formatEnergyJ, formatInt, formatJPerToken, formatMinutesLeft, formatPowerNumber, formatPowerW, formatWhFromJ } from '../lib/format';
import { scopeText, stateText } from '../lib/energyText';
import { useAppState, useAppStore } from '../state/context';
import { conversationEnergyJ } from '../state/store';
import { IconCheck, IconClose, IconCopy, IconInfo } from './Icons';
import { Sparkline } from './Sparkline';
import { useDismiss } from '../hooks/useDismiss';

/** The active source as the gauges show it: from the newest sample, else from `energy.status`. */
function useActiveSource(): { label: string | null; measured: boolean } {
  const newest = useAppState((s) => s.energy.samples[s.energy.samples.length - 1]);
  const status = useAppState((s) => s.energy.status);
  if (newest) return { label: newest.sourceLabel, measured: newest.measured };
  if (status) return { label: status.activeSourceLabel, measured: status.measured };
  return { label: null, measured: false };
}

function SourceRow({ source }: { source: PowerSourceInfo }) {
  const { copied, copy } = useCopy();
  return (
    <li className={`source source--${source.state}`} data-testid="power-source" data-state={source.state} data-kind={source.kind}>
      <div className="source__line">
        <span className="source__label">{source.label}</span>
        <span className={`source__state source__state--${source.state}`}>{stateText(source.state)}</span>
      </div>
      <div className="source__meta">
        {scopeText(source.scope)}
        {source.state === 'ok' && source.powerW !== null && ` · ${source.kind === 'estimate' ? '≈ ' : ''}${formatPowerW(source.powerW)}`}
      </div>
      {source.detail && source.state !== 'ok' && <p className="source__detail">{source.detail}</p>}
      {source.fix && source.state === 'no-permission' && (
        <div className="source__fix">
          <code className="source__command">{source.fix}</code>
          <button
            type="button"
            className="icon-button icon-button--small"
            aria-label={copied ? 'Copied' : `Copy the command that gives access to the ${source.label}`}
            title={copied ? 'Copied' : 'Copy'}
            onClick={() => copy(source.fix ?? '')}
          >
            {copied ? <IconCheck size={13} /> : <IconCopy size={13} />}
          </button>
        </div>
      )}
    </li>
  );
}

/** The source label with an info button; the popover lists every power source and its state. */
export function SourceInfo() {
  const store = useAppStore();
  const status = useAppState((s) => s.energy.status);
  const statusError = useAppState((s) => s.energy.statusError);
  const active = useActiveSource();
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  const button = useRef<HTMLButtonElement>(null);
  const popoverId = useId();
  const titleId = useId();

  useEffect(() => {
    if (open) void store.refreshEnergyStatus();
  }, [open, store]);
  // Escape closes only this popover, not the energy overlay around it.
  useDismiss(
    open,
    root,
    (reason) => {
      setOpen(false);
      if (reason === 'escape') button.current?.focus();
    },
    { claimEscape: true },
  );

  const label = active.label ?? (statusError ? 'unavailable' : '…');
  return (
    <div className="source-info" ref={root}>
      <button
        ref={button}
        type="button"
        className={`source-badge${active.measured ? ' is-measured' : ' is-estimated'}`}
        data-testid="energy-source"
        data-measured={active.measured ? 'true' : 'false'}
        aria-expanded={open}
        aria-controls={open ? popoverId : undefined}
        aria-label={`Power source: ${label}${active.label && !active.measured ? ' (estimated, not measured)' : ''}. Show all power sources`}
        onClick={() => setOpen((o) => !o)}
      >
        <span className="source-badge__dot" aria-hidden="true" />
        <span className="source-badge__label">{label}</span>
        <IconInfo size={13} />
      </button>
      {open && (
        <div className="popover source-popover" id={popoverId} role="dialog" aria-labelledby={titleId}>
          <div className="popover__header">
            <span id={titleId}>Power sources</span>
            <button type="button" className="icon-button icon-button--small" aria-label="Close" onClick={() => setOpen(false)}>
              <IconClose size={13} />
            </button>
          </div>
          <p className="source-popover__intro">
            {active.label === null
              ? 'No power reading yet.'
              : active.measured
                ? `Figures are measured by the ${active.label}.`
                : 'No power sensor can be read on this computer, so every figure is an estimate from a model of CPU use, not a measurement. Estimates are marked ≈.'}
          </p>
          {statusError && <p className="popover__error">{describeError(statusError)}</p>}
          {status && status.sources.length > 0 && (
            <ul className="source-list">
              {status.sources.map((source) => (
                <SourceRow key={source.id} source={source} />
              ))}
            </ul>
          )}
          {status && (
            <div className="popover__footer source-popover__footer">
              <span>
                Sampling every {status.sampleIntervalMs >= 1000 ? `${Math.round(status.sampleIntervalMs / 100) / 10} s` : `${status.sampleIntervalMs} ms`}
              </span>
            </div>
          )}
        </div>
      )}
    </div>
  );
}

function Gauge({ testId, label, children, note, extra }: { testId: string; label: string; children: ReactNode; note: ReactNode; extra?: Record<string, string> }) {
  return (
    <section className="gauge" data-testid={testId} aria-label={label} {...extra}>
      <h3 className="gauge__label">{label}</h3>
      <div className="gauge__value">{children}</div>
      <p className="gauge__note">{note}</p>
    </section>
  );
}

function PowerGauge() {
  const samples = useAppState((s) => s.energy.samples);
  const generating = useAppState((s) => s.energy.reply !== null);
  const idleW = useAppState((s) => s.energy.status?.idleBaselinePowerW ?? null);
  const newest = samples[samples.length - 1];
  const measured = newest?.measured ?? false;
  // "Power now" is the whole reading; a reply's "W avg" counts only what it adds above idle. Say so.
  const split =
    newest && idleW !== null
      ? `${approx(measured)}${formatPowerW(idleW)} idle${generating ? ` + ${formatPowerW(Math.max(0, newest.powerW - idleW))} for this reply` : ''}`
      : null;
  return (
    <section
      className="gauge gauge--power"
      data-testid="gauge-power"
      data-power-w={newest ? String(Math.round(newest.powerW * 1000) / 1000) : undefined}
      aria-label="Power now"
    >
      <h3 className="gauge__label">
        Power now
        {generating && <span className="gauge__live">generating</span>}
      </h3>
      <div className="gauge__value gauge__value--large" aria-live="off">
        {newest ? (
          <>
            {!measured && <span className="gauge__approx">≈</span>}
            <span className="gauge__number">{formatPowerNumber(newest.powerW)}</span>
            <span className="gauge__unit">W</span>
            {!measured && <span className="tag tag--estimated">estimated</span>}
          </>
        ) : (
          <span className="gauge__number gauge__number--empty">—</span>
        )}
      </div>
      {split && (
        <p className="gauge__note" data-testid="gauge-power-split" title="A reply's energy counts only the power above the idle draw measured just before it.">
          {split}
        </p>
      )}
      <Sparkline samples={samples} measured={measured} />
    </section>
  );
}

function TokenGauge() {
  const reply = useAppState((s) => s.energy.reply);
  const lastReply = useAppState((s) => s.energy.lastReply);
  const detail = useAppState((s) => s.detail);
  // Idle: the open conversation's last reply with energy, else the last reply of this session.
  let last: { energyJPerToken: number; measured: boolean; completionTokens: number } | null = null;
  if (detail) {
    for (let i = detail.messages.length - 1; i >= 0; i--) {
      const m = detail.messages[i]!;
      if (m.role === 'assistant' && m.energy && m.status !== 'streaming') {
        last = { energyJPerToken: m.energy.energyJPerToken, measured: m.energy.measured, completionTokens: m.stats?.completionTokens ?? 0 };
        break;
      }
    }
  }
  last ??= lastReply;
  if (reply) {
    return (
      <Gauge
        testId="gauge-jpt"
        label="Energy per token"
        extra={{ 'data-phase': 'live' }}
        note={
          reply.energyJPerToken === null
            ? 'this reply · waiting for the first token'
            : `this reply · ${approx(reply.measured)}${formatEnergyJ(reply.energyJ)} for ${formatInt(reply.completionTokens)} ${reply.completionTokens === 1 ? 'token' : 'tokens'} so far`
        }
      >
        {reply.energyJPerToken === null ? <span className="gauge__number gauge__number--empty">—</span> : <JptValue value={reply.energyJPerToken} measured={reply.measured} />}
      </Gauge>
    );
  }
  return (
    <Gauge testId="gauge-jpt" label="Energy per token" extra={{ 'data-phase': last ? 'last' : 'none' }} note={last ? `last reply · ${formatInt(last.completionTokens)} ${last.completionTokens === 1 ? 'token' : 'tokens'}` : 'no reply yet'}>
      {last && last.completionTokens > 0 ? <JptValue value={last.energyJPerToken} measured={last.measured} /> : <span className="gauge__number gauge__number--empty">—</span>}
    </Gauge>
  );
}

function JptValue({ value, measured }: { value: number; measured: boolean }) {
  const text = formatJPerToken(value);
  return (
    <>
      {!measured && <span className="gauge__approx">≈</span>}
      <span className="gauge__number">{text.replace(/ J\/token$/, '')}</span>
      <span className="gauge__unit">J/token</span>
    </>
  );
}

function ConversationGauge() {
  const selectedId = useAppState((s) => s.selectedId);
  const energyJ = useAppState((s) => conversationEnergyJ(s, s.selectedId));
  const live = useAppState((s) => s.energy.reply !== null && s.energy.reply.conversationId === s.selectedId);
  const measured = useActiveSource().measured;
  // Without any reading (telemetry down) a stored 0 means "unknown", not "nothing used".
  const known = useAppState((s) => s.energy.status !== null || s.energy.samples.length > 0);
  const wh = energyJ === null || (!known && energyJ === 0) ? null : formatWhFromJ(energyJ);
  return (
    <Gauge
      testId="gauge-conversation-wh"
      label="This conversation"
      extra={{ 'data-energy-j': energyJ === null ? '' : String(Math.round(energyJ * 1000) / 1000) }}
      note={selectedId === null ? 'no conversation open' : wh === null ? '' : `${approx(measured)}${formatEnergyJ(energyJ ?? 0)}${live ? ' · growing' : ''}`}
    >
      {wh === null ? (
        <span className="gauge__number gauge__number--empty">—</span>
      ) : (
        <>
          {!measured && <span className="gauge__approx">≈</span>}
          <span className="gauge__number">{wh.replace(/ Wh$/, '')}</span>
          <span className="gauge__unit">Wh</span>
        </>
      )}
    </Gauge>
  );
}

function BatteryGauge() {
  const battery = useAppState((s) => s.energy.battery);
  const minutes = useAppState((s) => s.energy.timeToEmptyMinutes);
  const newest = useAppState((s) => s.energy.samples[s.energy.samples.length - 1]);
  const known = useAppState((s) => s.energy.status !== null || s.energy.samples.length > 0);
  if (!battery) {
    return (
      <Gauge testId="gauge-battery" label="Battery" extra={{ 'data-battery': known ? 'none' : 'unknown' }} note={known ? 'This computer reports no battery.' : ''}>
        <span className="gauge__text">{known ? 'No battery' : '—'}</span>
      </Gauge>
    );
  }
  const percent = Math.round(battery.percent);
  let note: string;
  if (battery.onAc) note = battery.status === 'charging' ? 'On AC power · charging' : battery.status === 'full' ? 'On AC power · full' : 'On AC power';
  else if (minutes !== null && newest) note = `${formatMinutesLeft(minutes)} left at ${approx(newest.measured)}${formatPowerW(newest.powerW)}`;
  else if (minutes !== null) note = `${formatMinutesLeft(minutes)} left`;
  else note = 'On battery';
  return (
    <Gauge testId="gauge-battery" label="Battery" extra={{ 'data-battery': battery.onAc ? 'ac' : 'discharging' }} note={note}>
      <span className="gauge__number">{percent}</span>
      <span className="gauge__unit">%</span>
      <span className="battery-bar" role="meter" aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent} aria-label="Battery charge">
        <span className={`battery-bar__fill${percent <= 15 ? ' is-low' : ''}`} style={{ width: `${percent}%` }} />
      </span>
    </Gauge>
  );
}

/** The live energy column beside the chat (or over it in narrow windows). */
export function EnergyPanel({ overlay, onClose }: { overlay: boolean; onClose: () => void }) {
  const statusError = useAppState((s) => s.energy.statusError);
  const hasData = useAppState((s) => s.energy.samples.length > 0 || s.energy.status !== null);
  const panel = useRef<HTMLElement>(null);

  useDismiss(overlay, panel, onClose, { ignore: (target) => target.closest('[data-testid="energy-toggle"]') !== null, respectClaimedEscape: true });

  return (
    <aside ref={panel} id="energy-panel" className={`energy-panel${overlay ? ' is-overlay' : ''}`} data-testid="energy-gauges" aria-label="Energy gauges">
      <header className="energy-panel__header">
        <h2 className="energy-panel__title">Energy</h2>
        <SourceInfo />
        <button type="button" className="icon-button icon-button--small" aria-label="Hide the energy gauges" title="Hide" onClick={onClose}>
          <IconClose size={14} />
        </button>
      </header>
      {statusError && !hasData && (
        <p className="energy-panel__notice" role="status">
          No energy readings. {describeError(statusError)}
        </p>
      )}
      <div className="energy-panel__body">
        <PowerGauge />
        <TokenGauge />
        <ConversationGauge />
        <BatteryGauge />
      </div>
    </aside>
  );
}
