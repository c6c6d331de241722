import { describe, expect, it } from 'vitest';
import { DASHBOARD_CSS } from './dashboard-css.ts';

/**
 * Every page appends its own block to the one stylesheet. A block that loses its closing brace
 * swallows every rule after it without an error anywhere (CSS Syntax Level 3 §5: the parser just
 * keeps reading the block), so the nesting is checked here.
 */
describe('the dashboard stylesheet', () => {
  it('closes every block it opens, and never closes one it did not open', () => {
    const withoutComments = DASHBOARD_CSS.replace(/\/\*[\s\S]*?\*\//g, '').replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
    let depth = 0;
    const unopened: number[] = [];
    withoutComments.split('\n').forEach((line, index) => {
      for (const character of line) {
        if (character === '{') depth++;
        if (character === '}') depth--;
        if (depth < 0) {
          unopened.push(index + 1);
          depth = 0;
        }
      }
    });
    expect(unopened).toEqual([]);
    expect(depth).toBe(0);
  });
});
