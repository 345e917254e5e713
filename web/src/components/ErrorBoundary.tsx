import { Component, type ErrorInfo, type ReactNode } from 'react';

interface Props {
  /** What to show instead of the children once they threw; `reset` renders them again. */
  fallback(error: Error, reset: () => void): ReactNode;
  children: ReactNode;
  /** Called once per caught error (e.g. to log it). */
  onError?(error: Error, info: ErrorInfo): void;
  /** A failure is forgotten when this changes (e.g. the address): the children get another chance. */
  resetKey?: unknown;
}

interface State {
  error: Error | null;
}

/** Keeps a failure inside one part of the page (one message, one page) instead of blanking the app. */
export default class ErrorBoundary extends Component<Props, State> {
  override state: State = { error: null };

  static getDerivedStateFromError(error: unknown): State {
    return { error: error instanceof Error ? error : new Error(String(error)) };
  }

  override componentDidCatch(error: Error, info: ErrorInfo): void {
    this.props.onError?.(error, info);
  }

  override componentDidUpdate(prev: Props): void {
    if (this.state.error && prev.resetKey !== this.props.resetKey) this.reset();
  }

  reset = (): void => {
    this.setState({ error: null });
  };

  override render(): ReactNode {
    return this.state.error ? this.props.fallback(this.state.error, this.reset) : this.props.children;
  }
}
