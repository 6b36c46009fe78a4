import { useEffect, useState } from 'react';

/** Whether `query` (a CSS media query) matches now; follows its changes. */
export function useMediaQuery(query: string): boolean {
  const [matches, setMatches] = useState(() => window.matchMedia(query).matches);
  useEffect(() => {
    const media = window.matchMedia(query);
    const onChange = () => setMatches(media.matches);
    onChange();
    media.addEventListener('change', onChange);
    return () => media.removeEventListener('change', onChange);
  }, [query]);
  return matches;
}

/**
 * Below this width (px) the energy column does not fit beside the chat: it is hidden and the header's
 * toggle shows it over the chat instead. 1100 px = 272 px sidebar + ≈540 px of chat + ≈290 px column.
 */
export const NARROW_ENERGY_QUERY = '(max-width: 1099px)';

/** True when the window is too narrow for the energy column (see {@link NARROW_ENERGY_QUERY}). */
export function useNarrowWindow(): boolean {
  return useMediaQuery(NARROW_ENERGY_QUERY);
}
