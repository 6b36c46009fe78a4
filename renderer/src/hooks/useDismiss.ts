import { useEffect, useRef, type RefObject } from 'react';

/**
 * Closes a popover, menu or overlay the way desktop apps do: a mouse press outside `root` or the Escape
 * key calls `onDismiss` (with which one). Listens only while `active`.
 *
 * Options: `ignore(target)` exempts presses on some outside elements (e.g. the button that toggles the
 * overlay); `claimEscape` marks the Escape event as handled (`preventDefault`) so an enclosing overlay
 * that checks `defaultPrevented` stays open; `respectClaimedEscape` makes this one ignore an Escape that
 * something else already claimed.
 */
export function useDismiss(
  active: boolean,
  root: RefObject<HTMLElement | null>,
  onDismiss: (reason: 'outside' | 'escape') => void,
  options: { ignore?: (target: Element) => boolean; claimEscape?: boolean; respectClaimedEscape?: boolean } = {},
): void {
  const latest = useRef({ onDismiss, options });
  latest.current = { onDismiss, options };
  useEffect(() => {
    if (!active) return;
    const onDown = (e: MouseEvent) => {
      const target = e.target as Element;
      if (root.current && !root.current.contains(target) && !latest.current.options.ignore?.(target)) latest.current.onDismiss('outside');
    };
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      if (latest.current.options.respectClaimedEscape && e.defaultPrevented) return;
      if (latest.current.options.claimEscape) e.preventDefault();
      latest.current.onDismiss('escape');
    };
    document.addEventListener('mousedown', onDown);
    document.addEventListener('keydown', onKey);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('keydown', onKey);
    };
  }, [active, root]);
}
