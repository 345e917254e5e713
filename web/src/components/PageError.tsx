import { useEffect, useRef } from 'react';

/** A failed chunk (the server was down, or a redeploy renamed the bundle) rather than a bug in the page. */
export function isLoadFailure(error: Error): boolean {
  return /dynamically imported module|Importing a module script failed|error loading dynamically|Unable to preload|ChunkLoadError/i.test(
    `${error.name} ${error.message}`,
  );
}

/** What a page shows when it failed to load or to render: a sentence, Try again, and Reload. */
export default function PageError({ error, what, onRetry }: { error: Error; what: string; onRetry(): void }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => ref.current?.focus(), []);
  const load = isLoadFailure(error);
  return (
    <div className="page narrow page-error" role="alert" data-testid="page-error">
      <h2 ref={ref} tabIndex={-1}>
        {load ? `The ${what} could not be loaded.` : `The ${what} hit an error.`}
      </h2>
      <p>
        {load
          ? 'The server may be unreachable, or the app was updated. Check your connection, then try again.'
          : 'Something on this page went wrong. Trying again often helps; reloading the page starts afresh.'}
      </p>
      <details>
        <summary>Details</summary>
        <p className="hint">{error.message}</p>
      </details>
      <div className="row">
        <button type="button" className="primary" onClick={onRetry}>
          Try again
        </button>
        <button type="button" onClick={() => window.location.reload()}>
          Reload the page
        </button>
      </div>
    </div>
  );
}
