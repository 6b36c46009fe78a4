/**
 * Property tests of `decide` over random candidate sets and targets (seeded, so every run checks the
 * same few hundred cases): tightening a watt cap never raises the chosen power; raising the quality floor
 * never lowers the chosen quality (when feasible); the choice is feasible (and optimal) whenever any
 * candidate is; the choice does not depend on input order.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  batteryBudgetW,
  buildCandidates,
  decide,
  DEFAULT_TOKENS_PER_HOUR,
  profileTarget,
  THROTTLE_SPEED_RATIO,
  type Candidate,
  type Constraint,
  type GovernorTarget,
  type PowerState,
  type ProfileId,
  type RecentUsage,
} from '../../../electron/governor/index.js';
import { mulberry32, syntheticCandidateInputs } from '../../../bench/governorData.js';

const CASES = 300;

interface World {
  candidates: Candidate[];
  target: GovernorTarget;
  power: PowerState;
  usage: RecentUsage;
  rand: () => number;
}

/** One random world: 1–40 candidates, a random machine, power state, usage and target. */
function world(seed: number): World {
  const rand = mulberry32(seed * 7919 + 17);
  const count = 1 + Math.floor(rand() * 40);
  const machine = { bandwidthBytesPerSecond: 10e9 + rand() * 90e9, activePowerW: 5 + rand() * 40 };
  const candidates = buildCandidates(syntheticCandidateInputs(count, seed), machine);
  const power: PowerState = {
    onAc: rand() < 0.4,
    batteryPercent: rand() < 0.9 ? rand() * 100 : null,
    batteryCapacityWh: 40 + rand() * 60,
    baselinePowerW: rand() < 0.9 ? 2 + rand() * 10 : null,
    thermalThrottled: rand() < 0.2,
  };
  const usage: RecentUsage = { tokensPerHour: rand() < 0.3 ? null : 200 + rand() * 20_000 };
  const profiles: ProfileId[] = ['performance', 'balanced', 'saver', 'custom'];
  const profile = profiles[Math.floor(rand() * profiles.length)]!;
  let target: GovernorTarget;
  if (profile === 'custom') {
    target = {
      profile,
      wattCapW: rand() < 0.5 ? rand() * 45 : null,
      battery: rand() < 0.5 ? { hoursLeft: 0.5 + rand() * 8, reservePercent: rand() * 30 } : null,
      minDecodeTokensPerSecond: rand() * 15,
      minQuality: rand() < 0.5 ? rand() : 0,
    };
  } else {
    target = profileTarget(profile, power);
  }
  return { candidates, target, power, usage, rand };
}

/** The constraints, re-derived independently of `decide`'s implementation. */
function referenceViolations(c: Candidate, w: World): Set<Constraint> {
  const v = new Set<Constraint>();
  const f = w.power.thermalThrottled ? THROTTLE_SPEED_RATIO : 1;
  const speed = c.cost.decodeTokensPerSecond * f;
  const energy = c.cost.energyJPerToken / f;
  if (!c.fits) v.add('memory');
  if (speed < w.target.minDecodeTokensPerSecond) v.add('min-speed');
  if (c.quality < w.target.minQuality) v.add('min-quality');
  if (w.target.wattCapW != null && c.cost.powerW > w.target.wattCapW) v.add('watt-cap');
  if (w.target.battery != null && !w.power.onAc) {
    const budget = batteryBudgetW(w.power, w.target.battery);
    if (budget != null) {
      const tokensPerHour = w.usage.tokensPerHour ?? DEFAULT_TOKENS_PER_HOUR;
      if (budget <= 0 || energy > (budget * 3600) / tokensPerHour) v.add('battery-target');
    }
  }
  return v;
}

function choose(w: World, target: GovernorTarget = w.target) {
  return decide({ candidates: w.candidates, target, power: w.power, usage: w.usage });
}

describe('decide: properties', () => {
  test(`tightening a watt cap never raises the chosen variant's predicted power (${CASES} worlds × 4 caps)`, () => {
    let checked = 0;
    for (let seed = 1; seed <= CASES; seed++) {
      const w = world(seed);
      let cap: number | null = null; // start with no cap, then tighten step by step
      let previous = choose(w, { ...w.target, wattCapW: cap });
      for (let step = 0; step < 4; step++) {
        cap = cap == null ? 5 + w.rand() * 40 : cap * w.rand();
        const next = choose(w, { ...w.target, wattCapW: cap });
        assert.ok(
          next.predicted!.powerW <= previous.predicted!.powerW + 1e-9,
          `seed ${seed} cap ${cap}: ${next.predicted!.powerW} W after ${previous.predicted!.powerW} W\n${previous.reason}\n${next.reason}`,
        );
        previous = next;
        checked++;
      }
    }
    assert.equal(checked, CASES * 4);
  });

  test(`raising the quality floor never lowers the chosen quality while the target is met (${CASES} worlds)`, () => {
    let feasiblePairs = 0;
    for (let seed = 1; seed <= CASES; seed++) {
      const w = world(seed);
      const floors = [0, w.rand() * 0.5, 0.5 + w.rand() * 0.3, 0.8 + w.rand() * 0.2].sort((a, b) => a - b);
      let previous = choose(w, { ...w.target, minQuality: floors[0]! });
      for (const minQuality of floors.slice(1)) {
        const next = choose(w, { ...w.target, minQuality });
        if (next.violated.length === 0) {
          feasiblePairs++;
          assert.equal(previous.violated.length, 0, `seed ${seed}: a higher floor cannot make an infeasible target feasible`);
          assert.ok(next.chosen!.quality >= previous.chosen!.quality - 1e-12, `seed ${seed} floor ${minQuality}: ${next.chosen!.quality} < ${previous.chosen!.quality}`);
          assert.ok(next.chosen!.quality >= minQuality - 1e-9);
        }
        previous = next;
      }
    }
    assert.ok(feasiblePairs > CASES / 2, `only ${feasiblePairs} feasible pairs: the generator is too strict to test anything`);
  });

  test(`the choice is feasible, and best for the profile, whenever any candidate is feasible (${CASES} worlds)`, () => {
    let feasibleWorlds = 0;
    let infeasibleWorlds = 0;
    for (let seed = 1; seed <= CASES; seed++) {
      const w = world(seed);
      const d = choose(w);
      assert.ok(d.chosen != null, `seed ${seed}: null choice with ${w.candidates.length} candidates`);
      const feasible = w.candidates.filter((c) => referenceViolations(c, w).size === 0);
      const chosenViolations = [...referenceViolations(d.chosen!, w)].sort();
      assert.deepEqual([...d.violated].sort(), chosenViolations, `seed ${seed}: violated list`);
      if (feasible.length > 0) {
        feasibleWorlds++;
        assert.deepEqual(d.violated, [], `seed ${seed}: ${d.reason}`);
        const f = w.power.thermalThrottled ? THROTTLE_SPEED_RATIO : 1;
        if (w.target.profile === 'saver') {
          const best = Math.min(...feasible.map((c) => c.cost.energyJPerToken / f));
          assert.ok(d.chosen!.cost.energyJPerToken / f <= best + 1e-12, `seed ${seed}: saver did not pick the least energy`);
        } else {
          const best = Math.max(...feasible.map((c) => c.quality));
          assert.equal(d.chosen!.quality, best, `seed ${seed}: not the best quality`);
        }
      } else {
        infeasibleWorlds++;
        assert.ok(d.violated.length > 0);
        if (w.candidates.some((c) => c.fits)) assert.ok(d.chosen!.fits, `seed ${seed}: fallback chose a variant that does not fit`);
        else assert.equal(d.chosen!.sizeBytes, Math.min(...w.candidates.map((c) => c.sizeBytes)));
      }
      // Every candidate is ranked once, with its own violations.
      assert.equal(d.ranked.length, w.candidates.length);
      assert.equal(new Set(d.ranked.map((r) => r.candidate)).size, w.candidates.length);
      for (const r of d.ranked) assert.deepEqual([...r.violates].sort(), [...referenceViolations(r.candidate, w)].sort());
    }
    assert.ok(feasibleWorlds > 50 && infeasibleWorlds > 10, `${feasibleWorlds} feasible / ${infeasibleWorlds} infeasible worlds: the generator covers too little`);
  });

  test(`the choice does not depend on the order of the candidates (${CASES} worlds)`, () => {
    for (let seed = 1; seed <= CASES; seed++) {
      const w = world(seed);
      const shuffled = [...w.candidates];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = Math.floor(w.rand() * (i + 1));
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      const a = choose(w);
      const b = decide({ candidates: shuffled, target: w.target, power: w.power, usage: w.usage });
      assert.equal(b.chosen!.modelPath, a.chosen!.modelPath, `seed ${seed}`);
      assert.deepEqual(b.ranked.map((r) => r.candidate.modelPath), a.ranked.map((r) => r.candidate.modelPath));
      assert.equal(b.reason, a.reason);
    }
  });
});
