import { lazy, Suspense } from 'react';

const MarkdownRenderer = lazy(() => import('./MarkdownRenderer'));

/** Markdown with tables, code highlighting and LaTeX; the renderer (and KaTeX) load on first use. */
export default function Markdown({ children }: { children: string }) {
  return (
    <Suspense fallback={<div className="md md-plain">{children}</div>}>
      <MarkdownRenderer>{children}</MarkdownRenderer>
    </Suspense>
  );
}
