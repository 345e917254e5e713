import { describe, expect, it } from 'vitest';
import { configLabel, isLongGoal } from './labels';

describe('labels', () => {
  it('names a config once, with its id only to tell two of the same name apart', () => {
    const local = { id: 'local', name: 'Local (scripted offline model)' };
    const a = { id: 'a', name: 'GPT' };
    const b = { id: 'b', name: 'GPT' };
    expect(configLabel(local, [local, a, b])).toBe('Local (scripted offline model)');
    expect(configLabel(a, [local, a, b])).toBe('GPT (a)');
  });

  it('folds goals with many lines or characters', () => {
    expect(isLongGoal('Write a haiku')).toBe(false);
    expect(isLongGoal('a\nb\nc\nd\ne')).toBe(true);
    expect(isLongGoal('x'.repeat(281))).toBe(true);
  });
});
