import ReactMarkdown, { type Components } from 'react-markdown';
import rehypeHighlight from 'rehype-highlight';
import rehypeKatex from 'rehype-katex';
import remarkGfm from 'remark-gfm';
import remarkMath from 'remark-math';
import { remarkDisplayMath } from './markdownExtras';
import RemoteImage from './RemoteImage';
import TaskBox from './TaskBox';
import { remarkLimitNesting, sourceTooNested } from './markdownLimits';
import 'katex/dist/katex.min.css';
import 'highlight.js/styles/github.css';

const components: Components = {
  a: ({ node: _node, ...props }) => <a {...props} target="_blank" rel="noopener noreferrer" />,
  table: ({ node: _node, ...props }) => (
    <div className="md-table" tabIndex={0} role="region" aria-label="Table">
      <table {...props} />
    </div>
  ),
  pre: ({ node: _node, ...props }) => <pre tabIndex={0} {...props} />,
  img: ({ node: _node, src, alt }) => <RemoteImage src={src} alt={alt} />,
  input: ({ node: _node, ...props }) => <TaskBox {...props} />,
};

export default function MarkdownRenderer({ children }: { children: string }) {
  if (sourceTooNested(children)) return <div className="md md-plain md-too-deep">{children}</div>;
  return (
    <div className="md">
      <ReactMarkdown
        // The nesting bound runs first: GFM's own transforms already recurse per level.
        remarkPlugins={[remarkLimitNesting, remarkGfm, remarkMath, remarkDisplayMath]}
        rehypePlugins={[[rehypeKatex, { throwOnError: false, strict: 'ignore' }], [rehypeHighlight, { detect: true, ignoreMissing: true }]]}
        components={components}
      >
        {children}
      </ReactMarkdown>
    </div>
  );
}
