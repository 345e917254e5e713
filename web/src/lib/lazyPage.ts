// React.lazy remembers a failed import for good, so "Try again" could never load the page. Pages made
// with lazyPage start a fresh import after a failure when retryFailedPages() is called.
import { createElement, lazy, type ComponentType, type LazyExoticComponent } from 'react';

const failed = new Set<() => void>();

export function retryFailedPages(): void {
  const retries = [...failed];
  failed.clear();
  for (const retry of retries) retry();
}

export function lazyPage<P extends object>(load: () => Promise<{ default: ComponentType<P> }>): ComponentType<P> {
  let current: LazyExoticComponent<ComponentType<P>>;
  const attempt = () => {
    current = lazy(() =>
      load().catch((e: unknown) => {
        failed.add(attempt);
        throw e;
      }),
    );
  };
  attempt();
  return function LazyPage(props: P) {
    return createElement(current, props as never);
  };
}
