import { lazy, Suspense } from 'react';
import ErrorBoundary from './ErrorBoundary';
import PlainText from './PlainText';

const MarkdownRenderer = lazy(() => import('./MarkdownRenderer'));

/**
 * Markdown with tables, code highlighting and LaTeX; the renderer (and KaTeX) load on first use. A message
 * that cannot be rendered (or a renderer that failed to load) shows as plain text, alone.
 */
export default function Markdown({ children }: { children: string }) {
  return (
    <ErrorBoundary fallback={() => <PlainText note="Shown as plain text: it could not be formatted.">{children}</PlainText>}>
      <Suspense fallback={<PlainText>{children}</PlainText>}>
        <MarkdownRenderer>{children}</MarkdownRenderer>
      </Suspense>
    </ErrorBoundary>
  );
}
