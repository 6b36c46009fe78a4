import { useCallback, useEffect, useRef, useState } from 'react';
import { checkAddition, cleanFileName, decodeAttachment, precheckAttachment, type AttachmentRefusal, type TextAttachment } from '@shared/attachments';

/** The composer's attached files, per conversation, and the refusals of the last files offered. */
export interface Attachments {
  /** Accepted files, in the order they were added. */
  attachments: TextAttachment[];
  /** Why files of the last batch were refused (cleared by the next batch, a send or a dismiss). */
  refusals: AttachmentRefusal[];
  /** True while files are being read. */
  reading: boolean;
  /**
   * Reads `files` (from the picker, a drop or a paste) and adds the text files; refuses the others with a
   * sentence each (see shared/attachments.ts). `typed` is the typed text, counted against the message limit.
   */
  add: (files: readonly File[], typed: string) => Promise<void>;
  /** Removes the attachment at `index`. */
  remove: (index: number) => void;
  /** Hides the refusal at `index`. */
  dismiss: (index: number) => void;
  /** Empties the attachments (on send) and returns what they were, to put back if the send fails. */
  take: () => TextAttachment[];
  /** Puts attachments back (a failed send). */
  restore: (attachments: TextAttachment[]) => void;
}

/**
 * State of the composer's text attachments. Each conversation (`ownerId`, null for the new chat) keeps its
 * own until sent, like its draft. Files are judged by name, type and size first (a 3 GB video is never
 * read), then by their bytes.
 */
export function useAttachments(ownerId: string | null): Attachments {
  const [attachments, setAttachments] = useState<TextAttachment[]>([]);
  const [refusals, setRefusals] = useState<AttachmentRefusal[]>([]);
  const [reading, setReading] = useState(false);
  const byOwner = useRef(new Map<string | null, TextAttachment[]>());
  const owner = useRef(ownerId);
  const current = useRef(attachments);
  current.current = attachments;

  useEffect(() => {
    if (owner.current === ownerId) return;
    byOwner.current.set(owner.current, current.current);
    owner.current = ownerId;
    setAttachments(byOwner.current.get(ownerId) ?? []);
    setRefusals([]);
  }, [ownerId]);

  const add = useCallback(async (files: readonly File[], typed: string) => {
    if (files.length === 0) return;
    setReading(true);
    const startedFor = owner.current;
    const accepted = [...current.current];
    const refused: AttachmentRefusal[] = [];
    for (const file of files) {
      const early = precheckAttachment({ name: file.name, sizeBytes: file.size, mimeType: file.type });
      if (early) {
        refused.push(early);
        continue;
      }
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await file.arrayBuffer());
      } catch {
        const name = cleanFileName(file.name);
        refused.push({ name, reason: 'unreadable', message: `${name} could not be read (moved or deleted?)` });
        continue;
      }
      const decoded = decodeAttachment(file.name, bytes);
      if (!decoded.ok) {
        refused.push(decoded.refusal);
        continue;
      }
      const tooMuch = checkAddition(accepted, decoded.attachment, typed);
      if (tooMuch) refused.push(tooMuch);
      else accepted.push(decoded.attachment);
    }
    setReading(false);
    // The user switched conversations while the files were read: they belong to the one they were dropped on.
    if (owner.current !== startedFor) {
      byOwner.current.set(startedFor, accepted);
      return;
    }
    setAttachments(accepted);
    setRefusals(refused);
  }, []);

  const remove = useCallback((index: number) => setAttachments((list) => list.filter((_, i) => i !== index)), []);
  const dismiss = useCallback((index: number) => setRefusals((list) => list.filter((_, i) => i !== index)), []);
  const take = useCallback(() => {
    const taken = current.current;
    setAttachments([]);
    setRefusals([]);
    current.current = [];
    return taken;
  }, []);
  const restore = useCallback((list: TextAttachment[]) => setAttachments(list), []);

  return { attachments, refusals, reading, add, remove, dismiss, take, restore };
}
