import { useEffect, useId, useLayoutEffect, useRef, useState, type KeyboardEvent } from 'react';
import type { GovernorCandidate } from '@shared/contract';
import { formatJPerToken } from '@shared/format';
import { formatRate } from '../lib/format';
import { profileName } from '../lib/governor';
import { useDismiss } from '../hooks/useDismiss';
import { useAppState, useAppStore } from '../state/context';
import { IconLayers } from './Icons';

type ProfileChoice = 'saver' | 'balanced' | 'performance';
const PROFILE_ORDER: readonly ProfileChoice[] = ['saver', 'balanced', 'performance'];

/** "≈0.05 J/token · 31 tok/s" for a governor candidate's prediction. */
function predictionLine(candidate: GovernorCandidate): string {
  const approx = candidate.predicted.source === 'measured' ? '' : '≈';
  return `${approx}${formatJPerToken(candidate.predicted.energyJPerToken)} · ${formatRate(candidate.predicted.decodeTokensPerSecond)}`;
}

/**
 * "Try with…" on the last reply: answer the same question again with what each profile's governor would
 * choose (Saver, Balanced, Performance, each with its model and predicted J/token) or with any installed
 * model, for this reply only. The current reply is kept; ‹ 1/2 › switches between them.
 */
export function TryWithMenu({ disabled }: { disabled: boolean }) {
  const store = useAppStore();
  const models = useAppState((s) => s.models);
  const [open, setOpen] = useState(false);
  const [choices, setChoices] = useState<Record<ProfileChoice, GovernorCandidate | null> | null>(null);
  const root = useRef<HTMLDivElement>(null);
  const menu = useRef<HTMLDivElement>(null);
  const menuId = useId();
  // Opens upward when there is room above the button (replies sit above the composer), else downward.
  const [placement, setPlacement] = useState<'up' | 'down'>('up');
  useDismiss(open, root, () => setOpen(false), { claimEscape: true });
  useLayoutEffect(() => {
    if (!open || !root.current) return;
    const button = root.current.getBoundingClientRect();
    const scroller = root.current.closest('.chat__scroll') ?? document.documentElement;
    const top = scroller === document.documentElement ? 0 : scroller.getBoundingClientRect().top;
    const height = menu.current?.offsetHeight ?? 360;
    setPlacement(button.top - top >= height + 12 ? 'up' : 'down');
  }, [open, choices]);

  useEffect(() => {
    if (!open) return;
    let live = true;
    setChoices(null);
    void store.profileChoices().then((c) => live && setChoices(c));
    menu.current?.querySelector<HTMLElement>('[role="menuitem"]')?.focus();
    return () => {
      live = false;
    };
  }, [open, store]);

  // Focus the first item once the choices arrive (the menu opened before them).
  useEffect(() => {
    if (open && choices) menu.current?.querySelector<HTMLElement>('[role="menuitem"]:not(:disabled)')?.focus();
  }, [open, choices]);

  const pick = (target: { modelPath: string } | { profile: ProfileChoice }) => {
    setOpen(false);
    void store.tryWith(target);
  };
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp' && e.key !== 'Home' && e.key !== 'End') return;
    e.preventDefault();
    const items = [...(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]:not(:disabled)') ?? [])];
    const at = items.indexOf(document.activeElement as HTMLElement);
    const next = e.key === 'Home' ? 0 : e.key === 'End' ? items.length - 1 : (at + (e.key === 'ArrowDown' ? 1 : -1) + items.length) % items.length;
    items[next]?.focus();
  };
  const usable = (models ?? []).filter((m) => m.usable);

  return (
    <div className="try-with" ref={root}>
      <button
        type="button"
        className="button button--ghost button--small try-with__trigger"
        data-testid="try-with"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        disabled={disabled}
        onClick={() => setOpen((o) => !o)}
      >
        <IconLayers size={13} />
        Try with…
      </button>
      {open && (
        <div className={`try-with__menu is-${placement}`} role="menu" id={menuId} aria-label="Answer again with" ref={menu} onKeyDown={onKeyDown}>
          <div className="try-with__heading" aria-hidden="true">
            Answer again with
          </div>
          {PROFILE_ORDER.map((profile) => {
            const candidate = choices?.[profile] ?? null;
            return (
              <button
                key={profile}
                type="button"
                role="menuitem"
                className="try-with__item"
                data-testid={`try-with-${profile}`}
                disabled={choices !== null && candidate === null}
                onClick={() => pick({ profile })}
              >
                <span className="try-with__name">{profileName(profile)}'s choice</span>
                <span className="try-with__detail">
                  {choices === null ? 'Asking the governor…' : candidate ? `${candidate.name}${candidate.quantization ? ` ${candidate.quantization}` : ''} · ${predictionLine(candidate)}` : 'No model meets its limits'}
                </span>
              </button>
            );
          })}
          {usable.length > 0 && <div className="try-with__separator" role="separator" />}
          {usable.map((model) => (
            <button key={model.path} type="button" role="menuitem" className="try-with__item" onClick={() => pick({ modelPath: model.path })} data-testid="try-with-model">
              <span className="try-with__name">{model.name}</span>
              <span className="try-with__detail">{model.quantization ?? model.fileName}</span>
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
