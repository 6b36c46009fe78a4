import type { ReplyStats } from '@shared/contract';
import { formatInt, formatMs, formatRate } from '../lib/format';
import { useAppState } from '../state/context';
import { QuantBadge } from './ModelPicker';

/** The small, muted line under every assistant reply. */
export function MessageStats({ stats }: { stats: ReplyStats }) {
  // The same name as in the model picker when the file is still there.
  const model = useAppState((s) => s.models?.find((m) => m.path === stats.modelPath));
  const name = model ? model.name : stats.modelName;
  const seconds = Math.max(0, stats.endedAt - stats.startedAt) / 1000;
  const detail = [
    `Prompt: ${formatInt(stats.promptTokens)} tokens (${formatInt(stats.prefillTokens)} evaluated at ${formatRate(stats.prefillTokensPerSecond)})`,
    `Reply: ${formatInt(stats.completionTokens)} tokens at ${formatRate(stats.decodeTokensPerSecond)}`,
    `Time to first token: ${formatMs(stats.ttftMs)} · total ${seconds.toFixed(2)} s`,
    `Context: ${formatInt(stats.contextSize)} tokens · ${stats.threads} CPU threads`,
    stats.modelPath,
  ].join('\n');
  return (
    <div className="msg-stats" data-testid="message-stats" title={detail}>
      <span className="msg-stats__model">{name}</span>
      <QuantBadge quantization={stats.quantization} />
      <span className="msg-stats__sep" aria-hidden="true" />
      <span>
        {formatInt(stats.promptTokens)} prompt · {formatInt(stats.completionTokens)} completion tokens
      </span>
      <span className="msg-stats__sep" aria-hidden="true" />
      <span>TTFT {formatMs(stats.ttftMs)}</span>
      <span className="msg-stats__sep" aria-hidden="true" />
      <span>{formatRate(stats.decodeTokensPerSecond)}</span>
      <span className="msg-stats__sep" aria-hidden="true" />
      <span>
        {stats.threads} {stats.threads === 1 ? 'thread' : 'threads'}
      </span>
    </div>
  );
}
