/**
 * A horizontal progress bar (role `progressbar`, 0–100 %) labelled `label`; `valueText` says it in words.
 * Used by the calibration bench and the downloads (styles: `.cal-bar` in governor.css).
 */
export function ProgressBar({
  fraction,
  label,
  valueText,
  testId,
  size = 'large',
  tone = 'normal',
}: {
  /** 0..1; null for an unknown amount (an indeterminate bar without aria-valuenow). */
  fraction: number | null;
  label: string;
  valueText: string;
  testId: string;
  size?: 'large' | 'small';
  tone?: 'normal' | 'failed' | 'muted';
}) {
  const clamped = fraction === null ? null : Math.min(1, Math.max(0, fraction));
  return (
    <div
      className={`cal-bar cal-bar--${size} cal-bar--${tone}${clamped === null ? ' cal-bar--indeterminate' : ''}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={clamped === null ? undefined : Math.round(clamped * 100)}
      aria-valuetext={valueText}
      data-testid={testId}
    >
      <span className="cal-bar__fill" style={clamped === null ? undefined : { transform: `scaleX(${clamped})` }} />
    </div>
  );
}
