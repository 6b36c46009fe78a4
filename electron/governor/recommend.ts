/**
 * "Recommended for this computer": a ladder of about three downloadable variants, one per built-in profile
 * (Saver, Balanced, Performance), chosen by the governor's own decision over the catalog's candidates as
 * predicted for this machine, so that whatever profile is in effect later finds a good variant installed.
 * Pure: candidates, targets, usage and the disk budget come in as arguments.
 *
 * Rules:
 * - Performance on AC picks first (the best quality that fits in memory and reads faster than you do),
 *   then Saver (the least J/token at least as good as a 1B model at Q4_K_M), then Balanced on battery
 *   (the 8 W cap: the case it exists for). The Balanced rung must lie between the other two: better
 *   quality than Saver's, less J/token than Performance's, and the speed floor met; its own decision's
 *   best such candidate under the cap, else (nothing between stays under the cap on this machine) the
 *   best-quality candidate between them, else no Balanced rung.
 * - Rungs are distinct files: a profile whose choice is already on the ladder takes the next candidate
 *   of its own ranking that satisfies its target (else the next that fits memory).
 * - A rung must fit the disk budget together with the rungs before it (installed ones cost nothing);
 *   one that does not is passed over for the next of that profile's ranking.
 * - Rungs come back ordered Saver, Balanced, Performance.
 */
import { formatJPerToken } from '../../shared/format.js';
import { decide } from './decide.js';
import { profileTarget } from './profiles.js';
import type { Candidate, PowerState, RecentUsage } from './types.js';

/** The profiles of the ladder, in the order they pick. */
const PICK_ORDER = ['performance', 'saver', 'balanced'] as const;
/** The order rungs are shown in. */
const SHOW_ORDER = ['saver', 'balanced', 'performance'] as const;

/** Input of {@link recommendLadder}. */
export interface RecommendInput {
  /** The catalog's variants as candidates (`fits` = fits this machine's memory). */
  candidates: Candidate[];
  /** The machine's power facts (battery capacity, idle draw); `onAc` is set per profile. */
  power: PowerState;
  usage: RecentUsage;
  /** Bytes the not-yet-installed rungs may take together; null when unknown (no limit). */
  diskBudgetBytes: number | null;
  /** Model paths of candidates already installed (they take no disk). */
  installed: ReadonlySet<string>;
}

/** One rung. */
export interface LadderRung {
  profile: (typeof SHOW_ORDER)[number];
  candidate: Candidate;
  /** One sentence: the profile's decision, or why the next one was taken. */
  reason: string;
}

/** The ladder and what limited it. */
export interface LadderResult {
  rungs: LadderRung[];
  /** Bytes to download for the rungs not installed. */
  downloadBytes: number;
  /** What limited the choice, in one line (memory, disk), or null. */
  note: string | null;
}

/**
 * The recommended ladder (see the file comment). Never throws; an empty ladder when no candidate fits
 * memory (the note says so).
 */
export function recommendLadder(input: RecommendInput): LadderResult {
  const { candidates, usage, installed } = input;
  const budget = input.diskBudgetBytes ?? Number.POSITIVE_INFINITY;
  const taken = new Set<string>();
  let used = 0;
  let skippedForDisk = 0;
  const picked = new Map<LadderRung['profile'], LadderRung>();
  const cost = (c: Candidate) => (installed.has(c.modelPath) ? 0 : c.sizeBytes);

  for (const profile of PICK_ORDER) {
    // Balanced is chosen for battery use (its 8 W cap); the other two do not depend on the power source.
    const power: PowerState = { ...input.power, onAc: profile !== 'balanced', thermalThrottled: false };
    const d = decide({ candidates, target: profileTarget(profile, power), power, usage });
    if (!d.chosen) continue;
    const label = profile[0]!.toUpperCase() + profile.slice(1);
    const saverPick = picked.get('saver')?.candidate;
    const performancePick = picked.get('performance')?.candidate;
    if (profile === 'balanced' && saverPick && performancePick) {
      // Balanced's own choice when it meets its cap and sits between the other two rungs (better than
      // Saver's, not Performance's file); else the middle of the ladder.
      const between = (c: Candidate) =>
        c.fits &&
        !taken.has(c.modelPath) &&
        used + cost(c) <= budget &&
        !r0(d, c).violates.includes('min-speed') &&
        c.quality > saverPick.quality &&
        c.cost.energyJPerToken > saverPick.cost.energyJPerToken &&
        c.cost.energyJPerToken < performancePick.cost.energyJPerToken;
      const own = d.ranked.find((r) => r.feasible && between(r.candidate))?.candidate;
      const middle = own ?? d.ranked.map((r) => r.candidate).filter(between).sort((a, b) => b.quality - a.quality || a.cost.energyJPerToken - b.cost.energyJPerToken)[0];
      if (middle) {
        taken.add(middle.modelPath);
        used += cost(middle);
        picked.set('balanced', {
          profile: 'balanced',
          candidate: middle,
          reason:
            own && middle.modelPath === d.chosen.modelPath
              ? d.reason
              : own
                ? `Balanced on battery: ${middle.name}${middle.quantization ? ` ${middle.quantization}` : ''} stays under ${d.budgetW ?? 8} W at ${formatJPerToken(middle.cost.energyJPerToken)}, between the Saver and Performance models`
                : `Balanced: nothing between the Saver and Performance models stays under ${d.budgetW ?? 8} W on this computer, so the middle of the ladder: the best quality at ${formatJPerToken(middle.cost.energyJPerToken)}, between Saver's ${formatJPerToken(saverPick.cost.energyJPerToken)} and Performance's ${formatJPerToken(performancePick.cost.energyJPerToken)}`,
        });
      }
      continue;
    }
    const order = [...d.ranked.filter((r) => r.feasible), ...d.ranked.filter((r) => !r.feasible && r.candidate.fits)];
    let pick: Candidate | null = null;
    for (const r of order) {
      const c = r.candidate;
      if (taken.has(c.modelPath)) continue;
      if (used + cost(c) > budget) {
        skippedForDisk++;
        continue;
      }
      pick = c;
      break;
    }
    if (!pick) continue;
    taken.add(pick.modelPath);
    used += cost(pick);
    const reason =
      pick.modelPath === d.chosen.modelPath
        ? d.reason
        : `${label}: the next best for this profile (${d.chosen.name}${d.chosen.quantization ? ` ${d.chosen.quantization}` : ''} is ${taken.has(d.chosen.modelPath) ? 'already on the ladder' : 'too big for the free disk space'})`;
    picked.set(profile, { profile, candidate: pick, reason });
  }

  const rungs = SHOW_ORDER.flatMap((p) => (picked.has(p) ? [picked.get(p)!] : []));
  const fitsMemory = candidates.some((c) => c.fits);
  const note = !fitsMemory
    ? 'No catalog model fits in this computer’s memory.'
    : skippedForDisk > 0
      ? 'Larger variants were passed over: not enough free disk space.'
      : null;
  return { rungs, downloadBytes: rungs.reduce((s, r) => s + cost(r.candidate), 0), note };
}

/** The ranked entry of `c` in decision `d`. */
function r0(d: ReturnType<typeof decide>, c: Candidate) {
  return d.ranked.find((r) => r.candidate === c)!;
}

