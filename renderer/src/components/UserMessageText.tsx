import { memo, useMemo } from 'react';
import { parseMessage } from '@shared/attachments';
import { fileBadge } from './AttachmentChips';
import { IconChevronRight } from './Icons';

/**
 * The text of a user message in its bubble: files attached to it (the blocks written by
 * shared/attachments.ts) as cards that open to show the file, then the typed text. A message without
 * files is its text, unchanged. Everything is rendered as text, never as HTML or Markdown.
 */
export const UserMessageText = memo(function UserMessageText({ text }: { text: string }) {
  const parsed = useMemo(() => parseMessage(text), [text]);
  if (parsed.attachments.length === 0) return <>{text}</>;
  return (
    <>
      <div className="msg-files">
        {parsed.attachments.map((file, index) => {
          const lines = file.text === '' ? 0 : file.text.split('\n').length;
          return (
            <details key={`${file.name}-${index}`} className="msg-file" data-testid="message-file">
              <summary className="msg-file__summary">
                <span className="msg-file__badge" aria-hidden="true">
                  {fileBadge(file.name)}
                </span>
                <span className="msg-file__text">
                  <span className="msg-file__name" data-testid="message-file-name">
                    {file.name}
                  </span>
                  <span className="msg-file__meta">
                    {lines.toLocaleString('en-US')} {lines === 1 ? 'line' : 'lines'}
                    {file.language && file.language !== 'text' ? ` · ${file.language}` : ''}
                  </span>
                </span>
                <IconChevronRight size={14} className="msg-file__chevron" />
              </summary>
              <pre className="msg-file__body" tabIndex={0} aria-label={`Contents of ${file.name}`}>
                {file.text}
              </pre>
            </details>
          );
        })}
      </div>
      {parsed.text && <div className="msg-files__text">{parsed.text}</div>}
    </>
  );
});
