import { useState } from 'react';
import { useSearchParams } from 'react-router';

/**
 * What a space's tree view shares: the picked item kept in the URL's ``param`` (a link or a reload shows it),
 * and the folders the person closed, except those above the picked item, which are drawn open.
 */
export function useSpaceSelection(param: string, foldersAbove: (selected: string) => string[]) {
  const [params, setParams] = useSearchParams();
  const selected = params.get(param);
  const [closed, setClosed] = useState<string[]>([]);
  const select = (value: string) => {
    const next = new URLSearchParams(params);
    next.set(param, value);
    setParams(next, { replace: true });
  };
  const above = selected ? foldersAbove(selected) : [];
  const shownClosed = closed.filter((c) => !above.includes(c));
  const toggle = (path: string) =>
    setClosed(shownClosed.includes(path) ? shownClosed.filter((c) => c !== path) : [...shownClosed, path]);
  return { selected, select, closed: shownClosed, toggle };
}
