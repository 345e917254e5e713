// What the message renderer adds to react-markdown: `$$...$$` written inline shows as a display block (as
// LaTeX means it), task-list boxes carry a label, and remote images wait for a click.
import { useState, type ComponentProps } from 'react';

interface MathNode {
  type: string;
  children?: MathNode[];
  position?: { start: { offset?: number } };
  data?: { hProperties?: { className?: string[] } };
}

/** A remark plugin: inline math written with `$$` renders in display mode. */
export function remarkDisplayMath() {
  return (tree: MathNode, file: { value: unknown }) => {
    const source = String(file.value);
    const stack: MathNode[] = [tree];
    while (stack.length) {
      const node = stack.pop()!;
      if (node.type === 'inlineMath') {
        const at = node.position?.start.offset;
        if (at !== undefined && source.startsWith('$$', at) && node.data?.hProperties) {
          node.data.hProperties.className = ['language-math', 'math-display'];
        }
      }
      if (node.children) stack.push(...node.children);
    }
  };
}

function hostOf(src: string): string {
  try {
    return new URL(src, window.location.href).host || 'this page';
  } catch {
    return 'an unknown address';
  }
}

/**
 * An image in a message is not fetched until the reader asks: loading it would tell its server who read the
 * message and when. The placeholder names the host; a click loads it (https only: the page's policy
 * refuses plain http images, so those get a link instead).
 */
export function RemoteImage({ src, alt }: { src?: string | Blob; alt?: string }) {
  const [shown, setShown] = useState(false);
  if (typeof src !== 'string' || !src) return alt ? <span>{alt}</span> : null;
  const host = hostOf(src);
  const label = alt ? `“${alt}”` : 'An image';
  if (shown) return <img className="md-image" src={src} alt={alt ?? ''} referrerPolicy="no-referrer" />;
  const insecure = src.startsWith('http:');
  return (
    <span className="md-image-placeholder" data-testid="image-placeholder">
      <span>
        {label} from <strong>{host}</strong>, not loaded.
      </span>{' '}
      {insecure ? (
        <a href={src} target="_blank" rel="noopener noreferrer">
          Open it in a new tab
        </a>
      ) : (
        <button type="button" onClick={() => setShown(true)}>
          Load image
        </button>
      )}
    </span>
  );
}

/** A task-list box: read-only, on the line of its label, and named for screen readers. */
export function TaskBox(props: ComponentProps<'input'>) {
  if (props.type !== 'checkbox') return <input {...props} />;
  return (
    <input
      type="checkbox"
      className="md-task"
      checked={Boolean(props.checked)}
      disabled
      readOnly
      aria-label={props.checked ? 'Done' : 'Not done'}
    />
  );
}
