import { useNarrowWindow } from '../hooks/useMediaQuery';
import { formatPowerW } from '../lib/format';
import { useAppState, useAppStore } from '../state/context';
import { IconBolt } from './Icons';

/**
 * The header button that shows or hides the energy column. It carries the power now, so the figure stays
 * in sight while the column is hidden (always the case below ≈1100 px).
 */
export function EnergyToggle() {
  const store = useAppStore();
  const narrow = useNarrowWindow();
  const open = useAppState((s) => (narrow ? s.energyPanelOverlay : s.energyPanelOpen));
  const newest = useAppState((s) => s.energy.samples[s.energy.samples.length - 1]);
  const power = newest ? `${newest.measured ? '' : '≈ '}${formatPowerW(newest.powerW)}` : null;
  return (
    <button
      type="button"
      className={`energy-toggle${open ? ' is-open' : ''}`}
      data-testid="energy-toggle"
      aria-expanded={open}
      aria-controls="energy-panel"
      aria-label={`Energy gauges${power ? `, power now ${power}` : ''}`}
      title={open ? 'Hide the energy gauges' : 'Show the energy gauges'}
      onClick={() => store.toggleEnergyPanel(narrow)}
    >
      <IconBolt size={15} />
      {power && !open && <span className="energy-toggle__power">{power}</span>}
    </button>
  );
}
