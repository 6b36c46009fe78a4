/**
 * User presets on a real SQLite file (electron/store/presetsTable.ts) behind the rules of
 * electron/core/presets.ts: create, list, edit, delete; built-ins can be neither edited nor deleted; names
 * are unique whatever their case (built-in names included); deleting a preset moves its conversations back
 * to Default; a conversation's preset and overrides survive reopening the file.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Store } from '../../electron/store/store.js';
import { PresetError, PresetService } from '../../electron/core/presets.js';
import { PresetNameTakenError } from '../../electron/store/presetsTable.js';
import type { PresetFields } from '../../shared/presets.js';
import { tempDir } from '../helpers/runtime.js';

const tmp = tempDir();
after(() => tmp.cleanup());

const settings = { defaultSystemPrompt: 'Be brief.', maxReplyTokens: 512, contextSize: 2048 };

function fields(overrides: Partial<PresetFields> = {}): PresetFields {
  return { name: 'Mine', systemPrompt: null, temperature: 0.6, topP: 0.9, minP: 0.05, topK: 30, repeatPenalty: 1.1, maxReplyTokens: null, seed: null, contextSize: null, ...overrides };
}

function open(name: string): { store: Store; presets: PresetService; file: string } {
  const file = join(tmp.dir, name);
  const store = Store.open({ filePath: file });
  return { store, presets: new PresetService({ store, settings: () => settings }), file };
}

function fails(fn: () => unknown, code: 'BAD_INPUT' | 'NOT_FOUND', message: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof PresetError && e.code === code && message.test(e.message));
}

describe('user presets', () => {
  test('create, list after the built-ins, edit and delete; all kept across reopening', () => {
    const { store, presets, file } = open('crud.sqlite');
    const a = presets.create(fields({ name: 'Coding', systemPrompt: 'You write code.', seed: 42, maxReplyTokens: 1000, contextSize: 8192 }));
    const b = presets.create(fields({ name: 'Story' }));
    assert.equal(a.builtIn, false);
    assert.match(a.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      presets.list().map((p) => p.name),
      ['Default', 'Precise', 'Creative', 'Coding', 'Story'],
    );
    const edited = presets.update(b.id, fields({ name: 'Stories', temperature: 1.2 }));
    assert.equal(edited.temperature, 1.2);
    store.close();

    const again = Store.open({ filePath: file });
    try {
      const service = new PresetService({ store: again, settings: () => settings });
      assert.deepEqual(service.find(a.id), a);
      assert.equal(service.find(b.id)?.name, 'Stories');
      assert.deepEqual(service.delete(a.id), { deleted: true, movedConversationIds: [] });
      assert.deepEqual(service.delete(a.id), { deleted: false, movedConversationIds: [] });
      assert.deepEqual(
        service.list().map((p) => p.name),
        ['Default', 'Precise', 'Creative', 'Stories'],
      );
    } finally {
      again.close();
    }
  });

  test('built-ins cannot be edited or deleted; unknown ids are NOT_FOUND', () => {
    const { store, presets } = open('builtins.sqlite');
    try {
      fails(() => presets.update('precise', fields({ name: 'Sharper' })), 'BAD_INPUT', /"Precise" is a built-in preset and cannot be edited: duplicate it/);
      fails(() => presets.delete('default'), 'BAD_INPUT', /"Default" is a built-in preset and cannot be deleted/);
      fails(() => presets.update('no-such-id', fields()), 'NOT_FOUND', /No preset with id no-such-id/);
      fails(() => presets.checkPresetId('no-such-id'), 'NOT_FOUND', /No preset with id no-such-id/);
      assert.equal(presets.checkPresetId('default'), null, 'Default is stored as NULL');
      assert.equal(presets.checkPresetId(null), null);
      assert.equal(presets.checkPresetId('creative'), 'creative');
      assert.equal(presets.list().length, 3, 'nothing was stored');
    } finally {
      store.close();
    }
  });

  test('names are unique whatever their case, built-in names included; renaming to its own name is fine', () => {
    const { store, presets } = open('names.sqlite');
    try {
      const mine = presets.create(fields({ name: 'Ünïcode' }));
      fails(() => presets.create(fields({ name: 'üNÏCODE' })), 'BAD_INPUT', /A preset named "Ünïcode" already exists/);
      fails(() => presets.create(fields({ name: 'creative' })), 'BAD_INPUT', /A preset named "Creative" already exists/);
      const other = presets.create(fields({ name: 'Other' }));
      fails(() => presets.update(other.id, fields({ name: 'ÜNÏCODE' })), 'BAD_INPUT', /already exists/);
      assert.equal(presets.update(mine.id, fields({ name: 'Ünïcode', temperature: 0.1 })).temperature, 0.1);
      // Another process could insert between the check and the write: the database refuses too.
      assert.throws(() => store.presets.create(fields({ name: 'other' })), PresetNameTakenError);
      assert.equal(presets.list().length, 5);
    } finally {
      store.close();
    }
  });

  test('a conversation keeps its preset and overrides; deleting the preset moves it back to Default with its overrides', () => {
    const { store, presets, file } = open('assign.sqlite');
    const p = presets.create(fields({ name: 'Work', systemPrompt: 'Formal.' }));
    const c1 = store.createConversation({ systemPrompt: 'Formal.', modelPath: null, presetId: p.id, overrides: { temperature: 0.3 } });
    const c2 = store.createConversation({ systemPrompt: 'Be brief.', modelPath: null });
    assert.equal(c1.presetId, p.id);
    assert.deepEqual(c1.overrides, { temperature: 0.3 });
    assert.equal(c2.presetId, null);
    assert.equal(c2.overrides, null);
    assert.equal(store.presets.assign(c2.id, 'precise', { seed: 5 }), true);
    assert.equal(store.presets.assign('missing', 'precise', null), false);
    store.close();

    const again = Store.open({ filePath: file });
    try {
      const service = new PresetService({ store: again, settings: () => settings });
      const read1 = again.getConversation(c1.id)!.conversation;
      assert.equal(read1.presetId, p.id);
      assert.deepEqual(read1.overrides, { temperature: 0.3 });
      const r1 = service.resolveFor(read1);
      assert.equal(r1.systemPrompt, 'Formal.');
      assert.equal(r1.sampling.temperature, 0.3);
      const read2 = again.listConversations().find((c) => c.id === c2.id)!;
      assert.equal(read2.presetId, 'precise');
      assert.deepEqual(read2.overrides, { seed: 5 });

      assert.deepEqual(service.delete(p.id), { deleted: true, movedConversationIds: [c1.id] });
      const moved = again.getConversation(c1.id)!.conversation;
      assert.equal(moved.presetId, null);
      assert.deepEqual(moved.overrides, { temperature: 0.3 });
      assert.equal(service.resolveFor(moved).systemPrompt, 'Be brief.', 'Default: the settings\' prompt');
      // Clearing the overrides stores NULL.
      again.presets.assign(c1.id, null, {});
      assert.equal(again.getConversation(c1.id)!.conversation.overrides, null);
    } finally {
      again.close();
    }
  });

  test('a new conversation\'s system prompt is an override only when it differs from what its preset gives', () => {
    const { store, presets } = open('create.sqlite');
    try {
      const p = presets.create(fields({ name: 'Prompted', systemPrompt: 'Preset says hi.' }));
      assert.equal(presets.overridesForNew(null, null, undefined), null);
      assert.equal(presets.overridesForNew(null, null, 'Be brief.'), null, 'the default prompt is no override');
      assert.deepEqual(presets.overridesForNew(null, null, 'Custom.'), { systemPrompt: 'Custom.' });
      assert.equal(presets.overridesForNew(p.id, null, 'Preset says hi.'), null);
      assert.deepEqual(presets.overridesForNew(p.id, { topK: 3 }, 'Be brief.'), { topK: 3, systemPrompt: 'Be brief.' });
      assert.deepEqual(presets.overridesForNew('precise', { systemPrompt: 'x', temperature: 0.1 }, 'Be brief.'), { temperature: 0.1 });
      assert.equal(presets.overridesForNew(null, {}, undefined), null);
    } finally {
      store.close();
    }
  });

  test('the engine gets a seed only when one is fixed', () => {
    const { store, presets } = open('sampling.sqlite');
    try {
      const random = PresetService.sampling(presets.resolveFor({ presetId: 'creative', overrides: null }));
      assert.deepEqual(random, { temperature: 1, topK: 40, topP: 0.95, minP: 0.05, repeatPenalty: 1 });
      assert.equal('seed' in random, false);
      assert.equal(PresetService.sampling(presets.resolveFor({ presetId: null, overrides: { seed: 0 } })).seed, 0);
      // A preset that is gone (deleted in another process) resolves as Default.
      assert.equal(presets.resolveFor({ presetId: 'gone', overrides: null }).preset.id, 'default');
    } finally {
      store.close();
    }
  });
});
