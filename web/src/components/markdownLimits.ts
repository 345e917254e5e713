// Bounds on what the Markdown renderer accepts. Its parser copes with any input, but the steps after it
// (GFM's transforms, mdast -> hast -> React) recurse once per level of nesting: 3,000 nested blockquotes
// (`"> "` x 3000) overflow the stack, and thousands of nested brackets or emphasis marks take seconds to
// parse. A source past these bounds (linear scans, before parsing) is shown as plain text; so is a parsed
// tree deeper than MAX_MARKDOWN_DEPTH (remarkLimitNesting), and Markdown.tsx's error boundary catches
// whatever is left.

/** Deepest nesting of Markdown nodes (blockquotes, lists, emphasis, links...) rendered as Markdown. */
export const MAX_MARKDOWN_DEPTH = 48;
/** Deepest nesting of `[` brackets in the source worth handing to the parser. */
export const MAX_BRACKET_DEPTH = 48;

interface TreeNode {
  type: string;
  children?: TreeNode[];
  value?: string;
  data?: Record<string, unknown>;
}

/** How deep a tree goes (iteratively: the tree may be thousands of levels deep). Stops counting past `limit`. */
export function treeDepth(root: TreeNode, limit = Infinity): number {
  let deepest = 0;
  const stack: [TreeNode, number][] = [[root, 0]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (depth > deepest) {
      deepest = depth;
      if (deepest > limit) return deepest;
    }
    for (const child of node.children ?? []) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** The deepest run of unclosed `[` in the source (a linear scan, before any parsing). */
export function bracketDepth(source: string): number {
  let depth = 0;
  let deepest = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source.charCodeAt(i);
    if (c === 91 /* [ */) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (c === 93 /* ] */ && depth > 0) depth--;
  }
  return deepest;
}

const SPACE = /[ \t]/;
const BULLET = /[-*+]/;

/**
 * The most containers one line opens: `>` quotes and list markers at its start (`> - > 1. x`), and its
 * leading indentation (two spaces per level, the least a nested list needs).
 */
export function containerDepth(source: string): number {
  let deepest = 0;
  for (const line of source.split('\n')) {
    let depth = 0;
    let indent = 0;
    let i = 0;
    while (i < line.length) {
      const c = line[i]!;
      if (c === ' ' || c === '\t') {
        if (depth === 0) indent += c === ' ' ? 1 : 4; // leading indentation only
      }
      else if (c === '>') depth++;
      else if (BULLET.test(c) && (i + 1 === line.length || SPACE.test(line[i + 1]!))) depth++;
      else if (c >= '0' && c <= '9') {
        let j = i;
        while (j < line.length && line[j]! >= '0' && line[j]! <= '9') j++;
        if ((line[j] === '.' || line[j] === ')') && (j + 1 === line.length || SPACE.test(line[j + 1]!))) {
          depth++;
          i = j;
        } else break;
      } else break;
      i++;
    }
    deepest = Math.max(deepest, depth + Math.floor(indent / 2));
  }
  return deepest;
}

/** The longest run of emphasis delimiters (`*`, `_`, `~`): each pair can open one more level. */
export function delimiterRun(source: string): number {
  let run = 0;
  let longest = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '*' || c === '_' || c === '~') {
      run++;
      if (run > longest) longest = run;
    } else run = 0;
  }
  return longest;
}

/** Is this source too nested to hand to the parser at all? (Linear scans; no parsing.) */
export function sourceTooNested(source: string): boolean {
  return (
    bracketDepth(source) > MAX_BRACKET_DEPTH ||
    containerDepth(source) > MAX_MARKDOWN_DEPTH ||
    delimiterRun(source) > 2 * MAX_MARKDOWN_DEPTH
  );
}

/**
 * A remark plugin (put it first, before GFM's transforms walk the tree): a tree nested deeper than
 * `MAX_MARKDOWN_DEPTH` becomes one block of the message's plain text.
 */
export function remarkLimitNesting() {
  return (tree: TreeNode, file: { value: unknown }) => {
    if (treeDepth(tree, MAX_MARKDOWN_DEPTH) <= MAX_MARKDOWN_DEPTH) return;
    tree.children = [
      {
        type: 'paragraph',
        data: { hName: 'div', hProperties: { className: ['md-plain', 'md-too-deep'] } },
        children: [{ type: 'text', value: String(file.value) }],
      },
    ];
  };
}
