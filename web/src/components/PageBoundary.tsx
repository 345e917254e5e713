import type { ReactNode } from 'react';
import { useLocation } from 'react-router';
import { retryFailedPages } from '../lib/lazyPage';
import ErrorBoundary from './ErrorBoundary';
import PageError from './PageError';

/** One page's failures stay in that page; moving to another address gives it another chance. */
export default function PageBoundary({ what, children }: { what: string; children: ReactNode }) {
  const { pathname } = useLocation();
  return (
    <ErrorBoundary
      resetKey={pathname}
      fallback={(error, reset) => (
        <PageError
          error={error}
          what={what}
          onRetry={() => {
            retryFailedPages();
            reset();
          }}
        />
      )}
    >
      {children}
    </ErrorBoundary>
  );
}
