import { createContext, useContext } from 'react';
import type { LiveConnection } from './connection';

export const LiveContext = createContext<LiveConnection | null>(null);

export function useLive(): LiveConnection | null {
  return useContext(LiveContext);
}
