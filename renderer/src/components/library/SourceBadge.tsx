import type { ModelInfo } from '@shared/contract';
import { sourceBadgeText, sourceName } from '../../lib/library';

/**
 * Where an installed model was found: "Models folder", or the other app and its name for the model
 * ("Ollama: llama3.2:3b"). Other apps' files are read in place: the tooltip says so.
 */
export function SourceBadge({ model }: { model: Pick<ModelInfo, 'source' | 'appName' | 'path'> }) {
  const own = model.source === 'models-folder';
  const title = own
    ? `In Wattwise’s models folder: ${model.path}`
    : `Found in ${sourceName(model.source)}’s folder and read in place (Wattwise never changes or deletes it): ${model.path}`;
  return (
    <span className={`source-tag source-tag--${model.source}`} title={title} data-testid="model-source" data-source={model.source}>
      <span className="source-tag__dot" aria-hidden="true" />
      <span className="source-tag__text">{sourceBadgeText(model)}</span>
    </span>
  );
}
