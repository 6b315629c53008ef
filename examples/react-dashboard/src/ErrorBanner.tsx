import { ADVICE, type ShownError } from './errors';

/**
 * The gateway's errors of one view, one line per code: what to do (docs/errors.md), and whether
 * the view still has data beside them (partial data) or none at all.
 */
export function ErrorBanner({ errors, partial }: { errors: ShownError[]; partial: boolean }) {
  if (errors.length === 0) return null;
  const codes = [...new Set(errors.map((error) => error.code))];
  return (
    <div className={partial ? 'banner partial' : 'banner failed'} role="alert">
      {partial ? <strong>Some data is missing; the rest is shown.</strong> : <strong>Nothing could be loaded.</strong>}
      {codes.map((code) => (
        <div key={code} data-testid={`error-${code}`}>
          <code>{code}</code> {ADVICE[code] ?? errors.find((error) => error.code === code)?.message}
          {errors.filter((error) => error.code === code && error.path !== undefined).length > 0 && (
            <span className="paths"> ({errors.filter((error) => error.code === code).map((error) => error.path).join(', ')})</span>
          )}
        </div>
      ))}
    </div>
  );
}
