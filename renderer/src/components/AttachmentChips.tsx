import { estimateTokens, extensionOf, formatFileSize, type AttachmentRefusal, type TextAttachment } from '@shared/attachments';
import { IconAlert, IconClose } from './Icons';

/** The short type badge of a file: its extension ("MD", "TS"), "TXT" when it has none. */
export function fileBadge(name: string): string {
  const ext = extensionOf(name);
  return (ext || 'txt').slice(0, 4).toUpperCase();
}

/**
 * The composer's attached files as removable chips (type badge, name, size, ≈tokens), above the text
 * box. Each remove button is named after its file for screen readers. Renders nothing when empty.
 */
export function AttachmentChips({ attachments, onRemove }: { attachments: readonly TextAttachment[]; onRemove: (index: number) => void }) {
  if (attachments.length === 0) return null;
  return (
    <ul className="attachment-chips" aria-label="Attached files" data-testid="attachment-chips">
      {attachments.map((a, index) => {
        const tokens = estimateTokens(a.text);
        return (
          <li key={`${a.name}-${index}`} className="attachment-chip" data-testid="attachment-chip" title={a.name}>
            <span className="attachment-chip__badge" aria-hidden="true">
              {fileBadge(a.name)}
            </span>
            <span className="attachment-chip__text">
              <span className="attachment-chip__name">{a.name}</span>
              <span className="attachment-chip__meta">
                {formatFileSize(a.sizeBytes)} · ≈{tokens.toLocaleString('en-US')} tokens
              </span>
            </span>
            <button type="button" className="attachment-chip__remove" aria-label={`Remove ${a.name}`} title="Remove" onClick={() => onRemove(index)}>
              <IconClose size={12} />
            </button>
          </li>
        );
      })}
    </ul>
  );
}

/** Files that were not attached, one line each with the reason ("photo.png is not a text file"). */
export function AttachmentRefusals({ refusals, onDismiss }: { refusals: readonly AttachmentRefusal[]; onDismiss: (index: number) => void }) {
  if (refusals.length === 0) return null;
  return (
    // The alert wraps the list: a list with role="alert" would no longer be a list for its items.
    <div role="alert">
      <ul className="attachment-refusals" data-testid="attachment-refusals">
        {refusals.map((r, index) => (
          <li key={`${r.name}-${index}`} className="attachment-refusal" data-testid="attachment-refusal" data-reason={r.reason}>
            <IconAlert size={14} />
            <span>{r.message}.</span>
            <button type="button" className="attachment-refusal__close" aria-label={`Dismiss the note about ${r.name}`} onClick={() => onDismiss(index)}>
              <IconClose size={12} />
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
