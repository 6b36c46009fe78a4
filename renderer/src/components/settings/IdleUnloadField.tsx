import type { Settings } from '@shared/contract';

/** Choices for the idle time, minutes (null = never). */
const choices: (number | null)[] = [5, 10, 15, 30, 60, 120, 240, null];

function label(minutes: number | null): string {
  if (minutes === null) return 'Never';
  return minutes < 60 ? `After ${minutes} min` : `After ${minutes / 60} h`;
}

/**
 * Settings → "Unload the model when idle": one select on battery, one on AC (Settings `idleUnload`). A
 * stored value that is not among the choices is shown as its own option.
 */
export function IdleUnloadField({ id, value, onChange }: { id: string; value: Settings['idleUnload']; onChange: (value: Settings['idleUnload']) => void }) {
  const select = (key: keyof Settings['idleUnload'], text: string) => {
    const current = value[key];
    const options = choices.includes(current) ? choices : [...choices.slice(0, -1), current, null];
    return (
      <label className="idle-unload__choice" htmlFor={`${id}-${key}`}>
        <span className="idle-unload__label">{text}</span>
        <select
          id={`${id}-${key}`}
          className="input select"
          data-testid={`idle-unload-${key}`}
          value={current === null ? 'never' : String(current)}
          onChange={(e) => onChange({ ...value, [key]: e.target.value === 'never' ? null : Number(e.target.value) })}
        >
          {options.map((m) => (
            <option key={m ?? 'never'} value={m === null ? 'never' : String(m)}>
              {label(m)}
            </option>
          ))}
        </select>
      </label>
    );
  };
  return (
    <div className="field">
      <span className="field__label" id={`${id}-label`}>
        Unload the model when idle
      </span>
      <div className="field__control">
        <div className="idle-unload" role="group" aria-labelledby={`${id}-label`}>
          {select('onBatteryMinutes', 'On battery')}
          {select('onAcMinutes', 'On AC power')}
        </div>
        <p className="field__hint">Frees its memory; your next message loads it again (a few seconds for large models).</p>
      </div>
    </div>
  );
}
