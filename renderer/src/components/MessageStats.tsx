import type { Message, ReplyStats } from '@shared/contract';
import { formatInt, formatMs, formatRate } from '../lib/format';
import { profileName } from '../lib/governor';
import { useAppState } from '../state/context';
import { IconGauge, IconLayers, IconPin } from './Icons';
import { QuantBadge } from './ModelPicker';

/**
 * Who chose the model of a reply: the governor's profile (its reason as the tooltip), "pinned" when the
 * conversation's pinned model answered, or "your pick" when another model was chosen for this reply
 * ("Try with…" a model; `governor` null and not the pinned model).
 */
function ChoiceMark({ governor, modelPath }: { governor: Message['governor']; modelPath: string }) {
  const pinned = useAppState((s) => s.detail?.conversation.pinnedModelPath ?? null);
  if (governor) {
    const name = profileName(governor.profile);
    return (
      <span
        className="msg-stats__choice"
        data-testid="message-governor"
        data-profile={governor.profile}
        title={`Chosen by the power governor (${name}): ${governor.reason}`}
      >
        <IconGauge size={11} />
        {name}
        <span className="visually-hidden">: chosen by the power governor. {governor.reason}</span>
      </span>
    );
  }
  if (pinned !== modelPath) {
    return (
      <span className="msg-stats__choice is-pinned" data-testid="message-governor" data-profile="picked" title="You chose this model for this reply (Try with…)">
        <IconLayers size={11} />
        your pick
        <span className="visually-hidden">: you chose this model for this reply</span>
      </span>
    );
  }
  return (
    <span
      className="msg-stats__choice is-pinned"
      data-testid="message-governor"
      data-profile="pinned"
      title="The model pinned for this chat answered (the governor was off)"
    >
      <IconPin size={11} />
      pinned
      <span className="visually-hidden">: the model pinned for this chat answered</span>
    </span>
  );
}

/** The small, muted line under every assistant reply; `governor` says who chose its model. */
export function MessageStats({ stats, governor }: { stats: ReplyStats; governor: Message['governor'] }) {
  // The same name as in the model picker when the file is still there.
  const model = useAppState((s) => s.models?.find((m) => m.path === stats.modelPath));
  const name = model ? model.name : stats.modelName;
  const seconds = Math.max(0, stats.endedAt - stats.startedAt) / 1000;
  const detail = [
    `Prompt: ${formatInt(stats.promptTokens)} tokens (${formatInt(stats.prefillTokens)} evaluated at ${formatRate(stats.prefillTokensPerSecond)})`,
    `Reply: ${formatInt(stats.completionTokens)} tokens at ${formatRate(stats.decodeTokensPerSecond)}`,
    `Time to first token: ${formatMs(stats.ttftMs)} · total ${seconds.toFixed(2)} s`,
    `Context: ${formatInt(stats.contextSize)} tokens · ${stats.threads} CPU threads`,
    ...(stats.reEvaluatedTokens
      ? [`The conversation no longer fitted the context: the window moved and ${formatInt(stats.reEvaluatedTokens)} tokens were read again`]
      : []),
    stats.modelPath,
  ].join('\n');
  return (
    <div className="msg-stats" data-testid="message-stats" title={detail}>
      <span className="msg-stats__model">{name}</span>
      <QuantBadge quantization={stats.quantization} />
      <ChoiceMark governor={governor} modelPath={stats.modelPath} />
      <span className="msg-stats__item">
        {formatInt(stats.promptTokens)} prompt · {formatInt(stats.completionTokens)} completion tokens
      </span>
      <span className="msg-stats__item">TTFT {formatMs(stats.ttftMs)}</span>
      {stats.reEvaluatedTokens ? (
        <span className="msg-stats__item msg-stats__shift" data-testid="context-shift">
          window moved · {formatInt(stats.reEvaluatedTokens)} tokens re-read
        </span>
      ) : null}
      <span className="msg-stats__item">{formatRate(stats.decodeTokensPerSecond)}</span>
      <span className="msg-stats__item">
        {stats.threads} {stats.threads === 1 ? 'thread' : 'threads'}
      </span>
    </div>
  );
}
