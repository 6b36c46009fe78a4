/**
 * Words for the energy figures: what a power source covers, what its state means and how a reply's
 * energy was attributed. One place, so the gauges, the message footer and the Energy view say the same.
 */
import type { PowerSourceInfo, ReplyEnergy } from '@shared/contract';
import { formatEnergyJ, formatJPerToken, formatPowerW } from './format';

/** What a source's readings cover, in a few words. */
export function scopeText(scope: PowerSourceInfo['scope']): string {
  switch (scope) {
    case 'system':
      return 'whole computer';
    case 'cpu-package':
      return 'CPU package';
    case 'gpu':
      return 'one GPU';
    case 'process-estimate':
      return 'model of this app’s CPU use';
    default: {
      const unreachable: never = scope;
      return String(unreachable);
    }
  }
}

/** A source's state as a short label ("ok", "no permission", ...). */
export function stateText(state: PowerSourceInfo['state']): string {
  switch (state) {
    case 'ok':
      return 'ok';
    case 'no-permission':
      return 'no permission';
    case 'not-present':
      return 'not present';
    case 'unavailable':
      return 'unavailable';
    case 'error':
      return 'error';
    default: {
      const unreachable: never = state;
      return String(unreachable);
    }
  }
}

/** How a reply's energy was attributed, in one or two sentences (tooltips). */
export function methodText(energy: Pick<ReplyEnergy, 'method' | 'baselinePowerW' | 'sourceLabel'>): string {
  switch (energy.method) {
    case 'system-minus-baseline':
      return `Measured by the ${energy.sourceLabel}: whole-computer power during the reply minus the idle power just before it (${formatPowerW(energy.baselinePowerW)}).`;
    case 'package-cpu-share':
      return `Measured by the ${energy.sourceLabel}: CPU package energy during the reply times this app’s share of CPU time.`;
    case 'gpu-whole':
      return `Measured by the ${energy.sourceLabel}: GPU energy during the reply, counted whole (it was the only GPU work).`;
    case 'estimate':
      return `Estimated, not measured: no power sensor could be read, so a model of this computer turns CPU use into power (idle ${formatPowerW(energy.baselinePowerW)} plus watts per busy core, times this app’s share of CPU time).`;
    default: {
      const unreachable: never = energy.method;
      return String(unreachable);
    }
  }
}

/** The one-line summary under a reply: "12.4 J · 0.21 J/token · 9.8 W avg" ("≈12.4 J …" when estimated). */
export function replyEnergyLine(energy: Pick<ReplyEnergy, 'energyJ' | 'energyJPerToken' | 'avgPowerW' | 'measured'>, completionTokens: number): string {
  const parts = [`${energy.measured ? '' : '≈'}${formatEnergyJ(energy.energyJ)}`];
  if (completionTokens > 0) parts.push(formatJPerToken(energy.energyJPerToken));
  parts.push(`${formatPowerW(energy.avgPowerW)} avg`);
  return parts.join(' · ');
}

/** The full explanation of a reply's energy (tooltip and screen readers). */
export function replyEnergyDetail(energy: ReplyEnergy): string {
  const lines = [
    methodText(energy),
    `Average ${formatPowerW(energy.avgPowerW)}, peak ${formatPowerW(energy.peakPowerW)}, ${energy.sampleCount} power ${energy.sampleCount === 1 ? 'sample' : 'samples'}.`,
  ];
  if (energy.fallbackReason) lines.push(`Why not measured: ${energy.fallbackReason}`);
  return lines.join('\n');
}
