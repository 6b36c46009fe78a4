/**
 * Words and small helpers for the power governor's UI: profile names and descriptions, constraint
 * names, a variant's label, and the Governor settings form (validated with the contract's own schema).
 */
import { governorSettingsSchema, profileIdSchema, type GovernorCandidate, type GovernorDecision, type GovernorSettings, type ProfileId } from '@shared/contract';
import { SAVER_QUALITY_FLOOR } from '@shared/qualityScale';

/** The profiles in the switcher's order. */
export const PROFILES: readonly ProfileId[] = profileIdSchema.options;

/** A profile's name as the UI writes it. */
export function profileName(profile: ProfileId): string {
  switch (profile) {
    case 'performance':
      return 'Performance';
    case 'balanced':
      return 'Balanced';
    case 'saver':
      return 'Saver';
    case 'custom':
      return 'Custom';
  }
}

/**
 * One line on what a profile does (the rules are electron/governor/profiles.ts: Balanced caps the power
 * above idle at 15 W on AC and 8 W on battery, Saver keeps quality at {@link SAVER_QUALITY_FLOOR} or above;
 * every profile keeps ≥ 5 tok/s unless Custom says otherwise).
 */
export function profileDescription(profile: ProfileId): string {
  switch (profile) {
    case 'performance':
      return 'The best quality that fits in memory and streams at reading speed or faster. No power limit.';
    case 'balanced':
      return 'The best quality within a moderate power cap: 15 W above idle on AC, 8 W on battery.';
    case 'saver':
      return `The fewest joules per token that still reads well (${SAVER_QUALITY_FLOOR.text}) at reading speed.`;
    case 'custom':
      return 'Your own limits: a watt cap, a battery deadline, a speed and a quality floor.';
  }
}

/** Governor constraints as the UI names them. */
export function constraintName(constraint: GovernorDecision['bindingConstraint']): string {
  switch (constraint) {
    case 'memory':
      return 'memory';
    case 'min-speed':
      return 'speed floor';
    case 'min-quality':
      return 'quality floor';
    case 'watt-cap':
      return 'watt cap';
    case 'battery-target':
      return 'battery target';
    case 'none':
      return 'none';
    case 'no-candidates':
      return 'no usable model';
  }
}

/** A variant as one label ("wattwise-ladder 8.1M Q4_0"): shared/format's, the one the governor's reasons use. */
export { variantLabel } from '@shared/format';

/** "on AC" / "on battery 41%" / "on battery". */
export function powerHint(onAc: boolean, batteryPercent: number | null): string {
  if (onAc) return 'on AC';
  return batteryPercent === null ? 'on battery' : `on battery ${Math.round(batteryPercent)}%`;
}

/**
 * "≈ " before a candidate's J/token unless it is a real measurement: measured here (`source`) AND by a
 * power sensor (`sensorMeasured`, the telemetry's active source). A roofline prediction, or replies
 * metered by the CPU model, are estimates.
 */
export function energyApprox(source: GovernorCandidate['predicted']['source'], sensorMeasured: boolean): string {
  return source === 'measured' && sensorMeasured ? '' : '≈ ';
}

/** Quality 0..1 with two decimals ("0.93", "1.00"); two significant digits below 0.005 ("0.0046", "5.7×10⁻⁸"). */
export function formatQuality(quality: number): string {
  if (!Number.isFinite(quality)) return '—';
  if (quality > 0 && quality < 0.005) return quality.toPrecision(2).replace(/e-(\d+)$/, '×10⁻$1').replace(/⁻(\d+)/, (_, d: string) => `⁻${superscript(d)}`);
  return quality.toFixed(2);
}

const SUPERSCRIPT_DIGITS = '⁰¹²³⁴⁵⁶⁷⁸⁹';
function superscript(digits: string): string {
  return [...digits].map((d) => SUPERSCRIPT_DIGITS[Number(d)] ?? d).join('');
}

/** Where the roofline model's memory bandwidth comes from, in words. */
export function bandwidthSourceText(source: GovernorDecision['machine']['bandwidthSource']): string {
  switch (source) {
    case 'measured':
      return 'measured';
    case 'inferred':
      return 'inferred from measured speeds';
    case 'default':
      return 'default, not measured yet';
  }
}

/** How the Custom battery target is given: none, "until HH:MM", or "for N hours". */
export type BatteryMode = 'none' | 'until' | 'hours';

/** The Governor settings as the form edits them (text as typed). */
export interface GovernorForm {
  acProfile: ProfileId;
  batteryProfile: ProfileId;
  wattCapW: string;
  batteryMode: BatteryMode;
  batteryUntil: string;
  batteryHours: string;
  reservePercent: string;
  minDecodeTokensPerSecond: string;
  minQuality: string;
  minSwitchIntervalMinutes: string;
}

/** The form's fields that can carry an error (`form` for one that belongs to no field). */
export type GovernorField = Exclude<keyof GovernorForm, 'batteryMode'> | 'form';

/** The form for the stored settings. */
export function toGovernorForm(settings: GovernorSettings): GovernorForm {
  const c = settings.custom;
  return {
    acProfile: settings.acProfile,
    batteryProfile: settings.batteryProfile,
    wattCapW: c.wattCapW === null ? '' : String(c.wattCapW),
    batteryMode: c.batteryUntil !== null ? 'until' : c.batteryHours !== null ? 'hours' : 'none',
    batteryUntil: c.batteryUntil ?? '',
    batteryHours: c.batteryHours === null ? '' : String(c.batteryHours),
    reservePercent: String(c.reservePercent),
    minDecodeTokensPerSecond: String(c.minDecodeTokensPerSecond),
    minQuality: String(c.minQuality),
    minSwitchIntervalMinutes: String(settings.minSwitchIntervalMinutes),
  };
}

/** A decimal number as typed ("5", "0.7", " 12.5 "); NaN for anything else, including "". */
function decimal(text: string): number {
  return /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : Number.NaN;
}

/** Friendly messages per field, in the contract's limits (shared/contract.ts, governorSettingsSchema). */
const messages: Record<Exclude<GovernorField, 'form' | 'acProfile' | 'batteryProfile'>, string> = {
  wattCapW: 'A number of watts above 0 and up to 1000, or empty for no cap.',
  batteryUntil: 'A time as HH:MM, 24-hour (e.g. 18:30).',
  batteryHours: 'A number of hours above 0 and up to 72.',
  reservePercent: 'A percentage from 0 to 90.',
  minDecodeTokensPerSecond: 'A speed from 0 to 10000 tokens/s.',
  minQuality: 'A quality from 0 to 1 (e.g. 0.35).',
  minSwitchIntervalMinutes: 'A number of minutes from 0 to 1440.',
};

/**
 * Validates the form with the contract's `governorSettingsSchema`: the settings to save, or one message
 * per field in error. Never throws.
 */
export function fromGovernorForm(form: GovernorForm): { settings: GovernorSettings } | { errors: Partial<Record<GovernorField, string>> } {
  const candidate = {
    acProfile: form.acProfile,
    batteryProfile: form.batteryProfile,
    custom: {
      wattCapW: form.wattCapW.trim() === '' ? null : decimal(form.wattCapW),
      batteryUntil: form.batteryMode === 'until' ? form.batteryUntil.trim() : null,
      batteryHours: form.batteryMode === 'hours' ? decimal(form.batteryHours) : null,
      reservePercent: decimal(form.reservePercent),
      minDecodeTokensPerSecond: decimal(form.minDecodeTokensPerSecond),
      minQuality: decimal(form.minQuality),
    },
    minSwitchIntervalMinutes: decimal(form.minSwitchIntervalMinutes),
  };
  const parsed = governorSettingsSchema.safeParse(candidate);
  if (parsed.success) return { settings: parsed.data };
  const errors: Partial<Record<GovernorField, string>> = {};
  for (const issue of parsed.error.issues) {
    const key = issue.path[issue.path.length - 1];
    const field = (typeof key === 'string' && key in form ? key : 'form') as GovernorField;
    if (errors[field]) continue;
    errors[field] = field === 'form' || field === 'acProfile' || field === 'batteryProfile' ? issue.message : messages[field];
  }
  return { errors };
}
