/**
 * The renderer's presets: the list (`presets.list`, refreshed when a picker opens and after every change
 * made here), the calls that change presets and a conversation's preset, and the preset chosen for the new
 * chat that is not created yet (its "draft", which `AppStore.send` passes to `conversations.create`).
 *
 * A small external store read with `useSyncExternalStore`, like ./store.ts, but separate from it: presets
 * are their own feature and only a few components read them.
 */
import { useSyncExternalStore } from 'react';
import type { ApiError, ApiResult, ConversationSummary, WattwiseBridge } from '@shared/contract';
import type { Preset, PresetFields, PresetOverrides } from '@shared/presets';
import { getBridge } from '../api/bridge';

/** The preset of the new chat not created yet: the id (null = Default) and its overrides. */
export interface PresetDraft {
  presetId: string | null;
  overrides: PresetOverrides | null;
}

/** What the presets store holds. */
export interface PresetsState {
  /** Built-ins then the user's presets; null until `presets.list` answered once. */
  presets: Preset[] | null;
  /** Why the last `presets.list` failed; null after a success. */
  error: ApiError | null;
  /** The new chat's preset. */
  draft: PresetDraft;
}

const emptyDraft: PresetDraft = { presetId: null, overrides: null };

/** The presets store; one per page ({@link presetsStore}). */
export class PresetsStore {
  #state: PresetsState = { presets: null, error: null, draft: emptyDraft };
  readonly #listeners = new Set<() => void>();
  #listSeq = 0;

  constructor(private readonly bridge: () => WattwiseBridge) {}

  /** Subscribes to changes; returns the unsubscribe function. */
  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  };

  /** The current state (a new object after every change). */
  getState = (): PresetsState => this.#state;

  #set(patch: Partial<PresetsState>): void {
    this.#state = { ...this.#state, ...patch };
    for (const listener of [...this.#listeners]) listener();
  }

  async #call<T>(run: (bridge: WattwiseBridge) => Promise<ApiResult<T>>): Promise<ApiResult<T>> {
    try {
      return await run(this.bridge());
    } catch (error) {
      return { ok: false, error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) } };
    }
  }

  /** Asks for the list again; only the newest answer is kept. */
  async refresh(): Promise<void> {
    const seq = ++this.#listSeq;
    const result = await this.#call((b) => b.call('presets.list', {}));
    if (seq !== this.#listSeq) return;
    if (result.ok) this.#set({ presets: result.value, error: null });
    else this.#set({ error: result.error });
  }

  /** Stores a new preset and refreshes the list. */
  async create(fields: PresetFields): Promise<ApiResult<Preset>> {
    const result = await this.#call((b) => b.call('presets.create', fields));
    if (result.ok) await this.refresh();
    return result;
  }

  /** Replaces a user preset's fields and refreshes the list. */
  async update(id: string, fields: PresetFields): Promise<ApiResult<Preset>> {
    const result = await this.#call((b) => b.call('presets.update', { id, ...fields }));
    if (result.ok) await this.refresh();
    return result;
  }

  /** Deletes a user preset (its conversations go back to Default) and refreshes the list. */
  async remove(id: string): Promise<ApiResult<{ deleted: boolean; movedConversations: number }>> {
    const result = await this.#call((b) => b.call('presets.delete', { id }));
    if (result.ok) {
      if (this.#state.draft.presetId === id) this.#set({ draft: { ...this.#state.draft, presetId: null } });
      await this.refresh();
    }
    return result;
  }

  /** Sets a conversation's preset and overrides (the backend then announces `conversations.changed`). */
  setConversationPreset(id: string, presetId: string | null, overrides: PresetOverrides | null): Promise<ApiResult<ConversationSummary>> {
    return this.#call((b) => b.call('conversations.setPreset', { id, presetId, overrides }));
  }

  /** Sets the new chat's preset and overrides. */
  setDraft(draft: PresetDraft): void {
    this.#set({ draft });
  }

  /** Forgets the new chat's choice (a new chat starts with Default). */
  resetDraft(): void {
    if (this.#state.draft !== emptyDraft) this.#set({ draft: emptyDraft });
  }

  /**
   * What `conversations.create` needs for the new chat: its preset and overrides, when any were chosen
   * (nothing for Default without overrides, so the call stays as it was before presets).
   */
  draftInput(): { presetId?: string; overrides?: PresetOverrides } {
    const { presetId, overrides } = this.#state.draft;
    return { ...(presetId ? { presetId } : {}), ...(overrides ? { overrides } : {}) };
  }
}

/** The page's presets store (over the page's bridge, taken when first used). */
export const presetsStore = new PresetsStore(getBridge);

/** Subscribes to one slice of the presets state. The selector must return existing references or primitives. */
export function usePresetsState<T>(selector: (state: PresetsState) => T): T {
  return useSyncExternalStore(presetsStore.subscribe, () => selector(presetsStore.getState()));
}
