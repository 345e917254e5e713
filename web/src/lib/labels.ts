import type { SwarmConfig } from '../api/types';

/** A config's name, with its id only when another config has the same name (names usually say it all). */
export function configLabel(config: Pick<SwarmConfig, 'id' | 'name'>, all: readonly Pick<SwarmConfig, 'id' | 'name'>[]): string {
  const twin = all.some((c) => c.id !== config.id && c.name === config.name);
  return twin ? `${config.name} (${config.id})` : config.name;
}

/** A goal worth folding on a card: many lines or many characters. */
export function isLongGoal(goal: string): boolean {
  return goal.length > 280 || goal.split('\n').length > 4;
}
