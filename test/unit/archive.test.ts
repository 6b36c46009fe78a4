/**
 * The archive format (shared/archive.ts) on its own: what a bad file is told (one line, naming the field), the
 * integrity checks beyond the schema, the size bound, and the Markdown of a conversation.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConversationDetail, Message } from '../../shared/contract.js';
import { archiveLimits, buildConversationArchive, conversationToMarkdown, parseConversationArchive, type ArchivedConversation } from '../../shared/archive.js';

const at = 1_780_000_000_000;

function message(overrides: Partial<Message> & Pick<Message, 'id' | 'role' | 'content'>): Message {
  return { conversationId: 'c1', status: 'complete', createdAt: at, stats: null, error: null, energy: null, governor: null, ...overrides };
}

function entry(): ArchivedConversation {
  return {
    conversation: {
      id: 'c1',
      title: 'Plan a *trip*',
      createdAt: at,
      updatedAt: at + 5000,
      systemPrompt: 'You plan trips.\nBe brief.',
      modelPath: null,
      pinnedModelPath: null,
      presetId: null,
      overrides: null,
      messageCount: 2,
      promptTokens: 30,
      completionTokens: 12,
      energyJ: 1.2,
      snippet: null,
    },
    messages: [
      message({ id: 'm1', role: 'user', content: 'Three days in Lisbon?' }),
      message({
        id: 'm2',
        role: 'assistant',
        content: 'Day 1: Alfama.\n\n',
        stats: {
          modelPath: '/m/llama.gguf',
          modelName: 'Llama 3.2 1B Instruct',
          quantization: 'Q8_0',
          promptTokens: 30,
          prefillTokens: 30,
          completionTokens: 12,
          ttftMs: 90,
          prefillTokensPerSecond: 300,
          decodeTokensPerSecond: 20,
          threads: 4,
          contextSize: 2048,
          startedAt: at + 100,
          endedAt: at + 700,
        },
        energy: {
          energyJ: 1.2,
          energyJPerToken: 0.1,
          avgPowerW: 2,
          peakPowerW: 3,
          baselinePowerW: 5,
          sourceId: 'rapl',
          sourceLabel: 'RAPL package',
          measured: true,
          method: 'package-cpu-share',
          fallbackReason: null,
          sampleCount: 1,
        },
        governor: { profile: 'saver', reason: 'least J/token above the quality floor' },
      }),
    ],
    powerSamples: [{ at: at + 500, powerW: 8, sourceId: 'rapl', sourceLabel: 'RAPL package', measured: true, messageId: 'm2' }],
  };
}

function text(value: unknown): string {
  return JSON.stringify(value);
}

describe('parseConversationArchive', () => {
  test('reads a whole archive back', () => {
    const archive = buildConversationArchive([entry()], { exportedAt: at, exportedBy: 'Wattwise test' });
    const parsed = parseConversationArchive(text(archive));
    assert.ok(parsed.ok);
    if (parsed.ok) assert.deepEqual(parsed.archive, archive);
  });

  test('each bad file gets one line that says what is wrong', () => {
    const good = buildConversationArchive([entry()], { exportedAt: at });
    const mismatch = structuredClone(good);
    mismatch.conversations[0]!.messages[1]!.conversationId = 'other';
    const twice = structuredClone(good);
    twice.conversations[0]!.messages[1]!.id = 'm1';
    const strayed = structuredClone(good);
    strayed.conversations[0]!.powerSamples![0]!.messageId = 'nope';
    const lost = structuredClone(good);
    lost.conversations[0]!.messages[1]!.alternatives = [{ ...entry().messages[1]!, id: 'v1' }, { ...entry().messages[1]!, id: 'v2' }];
    const negative = structuredClone(good) as unknown as { conversations: Array<{ messages: Array<{ energy: { energyJ: number } | null }> }> };
    negative.conversations[0]!.messages[1]!.energy!.energyJ = -1;
    const cases: Array<[string, string, RegExp]> = [
      ['not JSON', '{"format": ', /^not JSON \(/],
      ['JSON, not an object', '[1, 2]', /^not a Wattwise conversation export/],
      ['another format', text({ format: 'jan.threads', version: 1 }), /^not a Wattwise conversation export \(it has no "format": "wattwise\.conversations"\)$/],
      ['a newer version', text({ ...good, version: 7 }), /^made by a newer Wattwise \(archive version 7; this one reads version 1\)/],
      ['a negative energy', text(negative), /^conversations\[0\]\.messages\[1\]\.energy\.energyJ: /],
      ['a missing field', text({ ...good, conversations: [{ conversation: good.conversations[0]!.conversation }] }), /^conversations\[0\]\.messages: /],
      ['a message of another conversation', text(mismatch), /^conversations\[0\]\.messages\[1\]\.conversationId: "other" is not its conversation's id "c1"$/],
      ['a message id twice', text(twice), /^conversations\[0\]\.messages\[1\]\.id: "m1" appears twice$/],
      ['a sample of an unknown reply', text(strayed), /^conversations\[0\]\.powerSamples\[0\]\.messageId: "nope" is no message of this conversation$/],
      ['versions without the shown one', text(lost), /^conversations\[0\]\.messages\[1\]\.alternatives: the message itself \("m2"\) is not among its versions$/],
      ['nothing', '   ', /^the file is empty$/],
    ];
    for (const [name, input, pattern] of cases) {
      const parsed = parseConversationArchive(input);
      assert.equal(parsed.ok, false, name);
      if (!parsed.ok) {
        assert.match(parsed.message, pattern, name);
        assert.ok(!parsed.message.includes('\n'), `${name}: one line`);
      }
    }
  });

  test('a text over the size bound is refused before it is parsed', () => {
    const parsed = parseConversationArchive(' '.repeat(archiveLimits.maxTextChars + 1));
    assert.equal(parsed.ok, false);
    if (!parsed.ok) assert.match(parsed.message, /^the file is too large \(32\.0 Mi characters; at most 32 Mi\)$/);
  });

  test('many schema problems are summed up, not all listed', () => {
    const bad = buildConversationArchive([entry()], { exportedAt: at }) as unknown as { conversations: Array<{ messages: Array<Record<string, unknown>> }> };
    for (const m of bad.conversations[0]!.messages) {
      m.role = 'robot';
      m.status = 'lost';
      m.createdAt = 'yesterday';
    }
    const parsed = parseConversationArchive(text(bad));
    assert.equal(parsed.ok, false);
    if (!parsed.ok) assert.match(parsed.message, /\(and 3 more\)$/);
  });
});

describe('conversationToMarkdown', () => {
  test('title, start, totals, system prompt, each message, and each reply with model, energy and time', () => {
    const e = entry();
    const detail: ConversationDetail = { conversation: e.conversation, messages: e.messages };
    const md = conversationToMarkdown(detail);
    const lines = md.split('\n');
    assert.equal(lines[0], '# Plan a *trip*');
    assert.match(md, /^\*Started \d{4}-\d{2}-\d{2} \d{2}:\d{2} · 2 messages · 1\.20 J for 12 tokens\* — exported from Wattwise$/m);
    assert.match(md, /\*\*System prompt\*\*\n\n> You plan trips\.\n> Be brief\.\n/);
    assert.match(md, /### You · .+\n\nThree days in Lisbon\?\n/);
    assert.match(md, /### Assistant · .+\n\nDay 1: Alfama\.\n\n\*Llama 3\.2 1B Instruct Q8\\_0 · 1\.20 J · 0\.10 J\/token · 12 tokens · 600 ms · 20\.0 tok\/s · RAPL package\*\n/);
    assert.match(md, /\*Chosen by the power governor \(Saver\): least J\/token above the quality floor\*\n$/);
    assert.ok(md.endsWith('\n') && !md.endsWith('\n\n'));
  });

  test('a reply with versions shows the one shown, then the others with their own facts; the totals count every version', () => {
    const e = entry();
    const shown = e.messages[1]!;
    const older: Message = { ...shown, id: 'm2-old', content: 'Day 1: Belém.', energy: { ...shown.energy!, energyJ: 0.8 }, stats: { ...shown.stats!, completionTokens: 8, modelName: 'Qwen2.5 0.5B' } };
    const md = conversationToMarkdown({ conversation: e.conversation, messages: [e.messages[0]!, { ...shown, alternatives: [older, shown] }] });
    assert.match(md, /· 2\.00 J for 20 tokens\* — exported from Wattwise$/m);
    assert.match(md, /\*This is version 2 of 2 of this reply; the others follow\.\*\n\n#### Version 1 of 2\n\nDay 1: Belém\.\n\n\*Qwen2\.5 0\.5B Q8\\_0 · 0\.800 J/);
    assert.ok(md.indexOf('Day 1: Alfama.') < md.indexOf('Day 1: Belém.'), 'the shown version first');
  });

  test('a failed reply says why; an empty one says it is empty', () => {
    const e = entry();
    const failed = message({ id: 'm3', role: 'assistant', content: '', status: 'error', error: 'Out of *memory*' });
    const md = conversationToMarkdown({ conversation: e.conversation, messages: [...e.messages, failed] });
    assert.match(md, /\*\(empty\)\*\n\n\*Failed: Out of \\\*memory\\\*\*\n$/);
  });
});
