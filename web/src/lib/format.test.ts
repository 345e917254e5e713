import { describe, expect, it } from 'vitest';
import { formatCost } from './format';

describe('formatCost (the swarm header)', () => {
  it('shows cents, and four decimals below a cent', () => {
    expect(formatCost(0)).toBe('$0');
    expect(formatCost(12.345)).toBe('$12.35');
    expect(formatCost(0.01)).toBe('$0.01');
    expect(formatCost(0.0042)).toBe('$0.0042');
    expect(formatCost(0.00005)).toBe('$0.0001');
    expect(formatCost(0.00000015)).toBe('<$0.0001'); // one gpt-4o-mini token: spent, so not "$0.0000"
    expect(formatCost(0.009996)).toBe('$0.01'); // a cent once rounded: cents, not "$0.0100"
  });
});
