// What the message renderer adds to react-markdown: `$$...$$` written inline shows as a display block (as
// LaTeX means it), task-list boxes carry a label, and remote images wait for a click.

interface MathNode {
  type: string;
  children?: MathNode[];
  position?: { start: { offset?: number } };
  data?: { hProperties?: { className?: string[] } };
}

/** A remark plugin: inline math written with `$$` renders in display mode. */
export function remarkDisplayMath() {
  return (tree: MathNode, file: { value: unknown }) => {
    const source = String(file.value);
    const stack: MathNode[] = [tree];
    while (stack.length) {
      const node = stack.pop()!;
      if (node.type === 'inlineMath') {
        const at = node.position?.start.offset;
        if (at !== undefined && source.startsWith('$$', at) && node.data?.hProperties) {
          node.data.hProperties.className = ['language-math', 'math-display'];
        }
      }
      if (node.children) stack.push(...node.children);
    }
  };
}
