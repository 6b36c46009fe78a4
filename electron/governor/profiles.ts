/**
 * The built-in profiles as governor targets, and the defaults every target starts from. The numbers are
 * product choices; each one says where it comes from.
 *
 * - **Performance**: the best quality that fits and meets the speed floor. No power limit, on AC or on
 *   battery (choosing Performance is accepting the drain; a watt cap on battery would, with the
 *   bandwidth-bound power model where every variant draws about the same watts, exclude all of them at
 *   once and fall back to the least-energy variant — the opposite of "performance").
 * - **Balanced**: the best quality within a moderate watt cap above idle: {@link BALANCED_AC_WATT_CAP_W}
 *   on AC, {@link BALANCED_BATTERY_WATT_CAP_W} on battery.
 * - **Saver**: the least J/token that still meets the speed floor and {@link SAVER_MIN_QUALITY} (at least
 *   as good as a 1B model at Q4_K_M).
 * - **Custom** (built by the caller): the user's own watt cap, battery target, speed and quality floors;
 *   the best quality that satisfies them.
 */
import { SAVER_QUALITY_FLOOR } from '../../shared/qualityScale.js';
import { referenceModelQuality } from './quality.js';
import type { GovernorTarget, PowerState, ProfileId } from './types.js';

/** Silent reading speed of English non-fiction, words/minute (Brysbaert 2019, J. Memory and Language 109, 104047: meta-analysis of 190 studies, 238 wpm). */
export const READING_WORDS_PER_MINUTE = 238;

/** Words per token of English text with OpenAI's BPE tokenizers ("1 token ≈ ¾ of a word", OpenAI tokenizer guide / help center "What are tokens"). */
export const WORDS_PER_TOKEN = 0.75;

/** Reading speed in tokens/s: 238 words/min ÷ 60 s/min ÷ 0.75 words/token ≈ 5.29 tokens/s. */
export const READING_TOKENS_PER_SECOND = READING_WORDS_PER_MINUTE / 60 / WORDS_PER_TOKEN;

/**
 * Default speed floor, tokens/s: reading speed ({@link READING_TOKENS_PER_SECOND} ≈ 5.29) rounded down
 * to 5, so a reply that streams at least as fast as one reads is not rejected over measurement noise.
 */
export const DEFAULT_MIN_DECODE_TOKENS_PER_SECOND = 5;

/**
 * Default usage when the app has no history yet: 2,000 generated tokens per hour of active chat — about
 * ten replies of ~200 tokens (a few paragraphs) an hour. An assumption, replaced by the measured rate
 * (`RecentUsage.tokensPerHour`) as soon as there is one.
 */
export const DEFAULT_TOKENS_PER_HOUR = 2000;

/**
 * Balanced on AC: 15 W above idle, the sustained package power of a thin-and-light laptop CPU (Intel
 * U-series "processor base power" 15 W, the PL1 class): inference may use the CPU's own sustained budget
 * but not turbo the fans up for minutes.
 */
export const BALANCED_AC_WATT_CAP_W = 15;

/**
 * Balanced on battery: 8 W above idle, about half the AC cap. On a typical 50–60 Wh laptop battery,
 * continuous generation at 8 W costs ≈ 15% of the battery per hour on top of idle.
 */
export const BALANCED_BATTERY_WATT_CAP_W = 8;

/**
 * Saver's quality floor on the absolute scale of `quality.ts`: the prior quality of the reference model
 * in {@link SAVER_QUALITY_FLOOR} ("at least as good as a 1B model at Q4_K_M", ≈ 0.34; the words and
 * their reasons are in shared/qualityScale.ts, where the UI reads them).
 */
export const SAVER_MIN_QUALITY = referenceModelQuality(SAVER_QUALITY_FLOOR.parameterCount, SAVER_QUALITY_FLOOR.quantization);

/**
 * A built-in profile as a target (see the file comment for the rules and numbers): no battery deadline,
 * speed floor {@link DEFAULT_MIN_DECODE_TOKENS_PER_SECOND}; Balanced's watt cap depends on `power.onAc`.
 * An unknown profile id (bad input at runtime) gives Balanced.
 */
export function profileTarget(profile: Exclude<ProfileId, 'custom'>, power: PowerState): GovernorTarget {
  const base = { battery: null, minDecodeTokensPerSecond: DEFAULT_MIN_DECODE_TOKENS_PER_SECOND } as const;
  switch (profile) {
    case 'performance':
      return { ...base, profile, wattCapW: null, minQuality: 0 };
    case 'saver':
      return { ...base, profile, wattCapW: null, minQuality: SAVER_MIN_QUALITY };
    case 'balanced':
    default:
      return { ...base, profile: 'balanced', wattCapW: power.onAc ? BALANCED_AC_WATT_CAP_W : BALANCED_BATTERY_WATT_CAP_W, minQuality: 0 };
  }
}
