import { useEffect, useState } from 'react';

/** useState that survives a reload or a trip through the login page (sessionStorage). */
export function useSessionDraft(key: string, initial: string): [string, (v: string) => void] {
  const storageKey = `aga.draft.${key}`;
  const [value, setValue] = useState<string>(() => {
    try {
      return sessionStorage.getItem(storageKey) ?? initial;
    } catch {
      return initial;
    }
  });
  useEffect(() => {
    try {
      if (value) sessionStorage.setItem(storageKey, value);
      else sessionStorage.removeItem(storageKey);
    } catch {
      /* storage disabled */
    }
  }, [storageKey, value]);
  return [value, setValue];
}
