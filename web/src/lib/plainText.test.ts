import { describe, expect, it } from 'vitest';
import { plainPreview } from './plainText';

describe('plain-text preview of a Markdown message', () => {
  it('drops the formatting marks and keeps the words', () => {
    expect(plainPreview('I need your input on this: **Ask the user for a colour**')).toBe(
      'I need your input on this: Ask the user for a colour',
    );
    expect(plainPreview('# Title\n\n> a *quote* with `code`\n\n- [x] done\n- [ ] todo\n1. first')).toBe(
      'Title a quote with code done todo first',
    );
    expect(plainPreview('See [the docs](https://x.org) and ![a chart](https://x.org/c.png), ~~old~~ __new__')).toBe(
      'See the docs and a chart, old new',
    );
    expect(plainPreview('```python\nprint(1)\n```')).toBe('print(1)');
    expect(plainPreview('2 * 3 * 4 and snake_case_name')).toBe('2 * 3 * 4 and snake_case_name');
  });

  it('is one short line', () => {
    const out = plainPreview('word '.repeat(500), 50);
    expect(out.length).toBe(50);
    expect(out.endsWith('…')).toBe(true);
    expect(out).not.toContain('\n');
  });
});
