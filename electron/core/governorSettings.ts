/**
 * Default governor settings (the `governor` key of the app settings).
 */
import type { GovernorSettings } from '../../shared/contract.js';
import { DEFAULT_MIN_DECODE_TOKENS_PER_SECOND } from '../governor/profiles.js';

/**
 * Performance on AC, Balanced on battery (what laptop OS power plans do by default); Custom starts with
 * no cap, no battery deadline, a 10% battery reserve (the level at which Windows and macOS warn by
 * default), the reading-speed floor and no quality floor; switches at most every 5 minutes.
 */
export const defaultGovernorSettings: GovernorSettings = {
  acProfile: 'performance',
  batteryProfile: 'balanced',
  custom: {
    wattCapW: null,
    batteryUntil: null,
    batteryHours: null,
    reservePercent: 10,
    minDecodeTokensPerSecond: DEFAULT_MIN_DECODE_TOKENS_PER_SECOND,
    minQuality: 0,
  },
  minSwitchIntervalMinutes: 5,
};
