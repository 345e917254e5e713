import { useState } from 'react';

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
export default function RemoteImage({ src, alt }: { src?: string | Blob; alt?: string }) {
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
