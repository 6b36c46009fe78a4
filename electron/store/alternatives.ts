/**
 * Versions of a reply (migration 010): Regenerate and "Try with…" keep the reply they replace as a hidden
 * alternative instead of deleting it, and any version can be shown again. A group is the set of replies
 * to one question; every member's `alternative_group` is the first member's id; exactly one member has
 * `hidden = 0`. Reading is in `Store.getConversation` (`Message.alternatives`).
 *
 * Part of the {@link import('./store.js').Store} (`store.alternatives`).
 */
import type Database from 'better-sqlite3';
import { MAX_ALTERNATIVES } from '../../shared/contract.js';
import { StoreError } from './storeError.js';

interface Row {
  seq: number;
  id: string;
  conversation_id: string;
  role: string;
  status: string;
  alternative_group: string | null;
  hidden: number;
}

/** The alternatives of replies (columns `alternative_group`, `hidden` of `messages`). */
export class AlternativesTable {
  private readonly txKeep: Database.Transaction<(messageId: string, discard: boolean) => string | null>;
  private readonly txSelect: Database.Transaction<(messageId: string) => string>;

  constructor(
    db: Database.Database,
    private readonly wrap: <T>(fn: () => T) => T,
  ) {
    const getRow = db.prepare<[string], Row>(
      'SELECT seq, id, conversation_id, role, status, alternative_group, hidden FROM messages WHERE id = ?',
    );
    const members = db.prepare<[string], Row>(
      'SELECT seq, id, conversation_id, role, status, alternative_group, hidden FROM messages WHERE alternative_group = ? ORDER BY seq',
    );
    const setGroupHidden = db.prepare<[string, string]>('UPDATE messages SET alternative_group = ?, hidden = 1 WHERE id = ?');
    const deleteRow = db.prepare<[string]>('DELETE FROM messages WHERE id = ?');
    const showOnly = db.prepare<[string, string]>('UPDATE messages SET hidden = (id <> ?) WHERE alternative_group = ?');

    this.txKeep = db.transaction((messageId: string, discard: boolean): string | null => {
      const row = getRow.get(messageId);
      if (row === undefined || row.role !== 'assistant') throw new StoreError('NOT_FOUND', `reply ${messageId} not found`);
      if (row.status === 'streaming') throw new StoreError('BAD_INPUT', 'a reply that is still being written cannot become an alternative');
      if (discard) {
        deleteRow.run(row.id);
        return row.alternative_group;
      }
      const group = row.alternative_group ?? row.id;
      setGroupHidden.run(group, row.id);
      // Room for the new version: drop the oldest hidden ones past the limit.
      const all = members.all(group);
      for (const old of all.slice(0, Math.max(0, all.length - (MAX_ALTERNATIVES - 1)))) deleteRow.run(old.id);
      return group;
    });

    this.txSelect = db.transaction((messageId: string): string => {
      const row = getRow.get(messageId);
      if (row === undefined) throw new StoreError('NOT_FOUND', `message ${messageId} not found`);
      if (row.alternative_group === null) {
        if (row.hidden === 0) return row.conversation_id;
        throw new StoreError('NOT_FOUND', `message ${messageId} not found`);
      }
      if (members.all(row.alternative_group).some((m) => m.status === 'streaming')) {
        throw new StoreError('BAD_INPUT', 'wait for the reply being written to finish before switching versions');
      }
      showOnly.run(row.id, row.alternative_group);
      return row.conversation_id;
    });
  }

  /**
   * Hides reply `messageId` as an alternative of the reply about to be written, and returns the group id
   * to give that reply (`Store.addMessage({ alternativeGroup })`). Keeps at most
   * {@link MAX_ALTERNATIVES} − 1 versions (the oldest go), so the new one makes at most the limit. With
   * `discard` (a failed or empty reply, not worth keeping) the reply is deleted instead, and the group it
   * was in (or null) is returned.
   * @throws StoreError `NOT_FOUND` (no such reply), `BAD_INPUT` (it is still streaming).
   */
  keepAsAlternative(messageId: string, options: { discard?: boolean } = {}): string | null {
    return this.wrap(() => this.txKeep(messageId, options.discard === true));
  }

  /**
   * Shows version `messageId` of its reply (the others of its group are hidden) and returns its
   * conversation's id. Showing a message that has no alternatives is a no-op.
   * @throws StoreError `NOT_FOUND` (no such message), `BAD_INPUT` (a version is still streaming).
   */
  select(messageId: string): string {
    return this.wrap(() => this.txSelect(messageId));
  }
}
