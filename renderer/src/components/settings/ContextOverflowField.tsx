import type { ContextOverflow } from '@shared/contract';

/** The choices, in the order shown, with their label and what they do (LM Studio's three strategies). */
const choices: { value: ContextOverflow; label: string; hint: string }[] = [
  { value: 'rolling-window', label: 'Rolling window', hint: 'The oldest messages are dropped to make room; the system prompt stays.' },
  { value: 'truncate-middle', label: 'Keep the first message', hint: 'The middle of the conversation is dropped; the system prompt and your first message stay.' },
  { value: 'stop', label: 'Stop at the limit', hint: 'Nothing is dropped: the reply stops when the context is full. Start a new chat to go on.' },
];

/**
 * Settings → "When the context is full" (Settings `contextOverflow`): a select of the three strategies,
 * the hint saying what the chosen one does.
 */
export function ContextOverflowField({ id, value, onChange }: { id: string; value: ContextOverflow; onChange: (value: ContextOverflow) => void }) {
  const chosen = choices.find((c) => c.value === value) ?? choices[0]!;
  return (
    <div className="field">
      <label className="field__label" htmlFor={id}>
        When the context is full
      </label>
      <div className="field__control">
        <select
          id={id}
          className="input select"
          data-testid="context-overflow"
          value={value}
          aria-describedby={`${id}-hint`}
          onChange={(e) => {
            const next = choices.find((c) => c.value === e.target.value);
            if (next) onChange(next.value);
          }}
        >
          {choices.map((c) => (
            <option key={c.value} value={c.value}>
              {c.label}
            </option>
          ))}
        </select>
        <p className="field__hint" id={`${id}-hint`}>
          {chosen.hint}
        </p>
      </div>
    </div>
  );
}
