import { memo, type ReactNode } from 'react';
import ReactMarkdown, { type Components, type Options } from 'react-markdown';
import rehypeHighlight from 'rehype-highlight';
import rehypeSanitize, { defaultSchema } from 'rehype-sanitize';
import remarkGfm from 'remark-gfm';
import { externalLinkHref } from '@shared/links';
import { useCopy } from '../hooks/useCopy';

type PluggableList = NonNullable<Options['rehypePlugins']>;

// The default GitHub-like schema, with `language-*` classes kept on code (rehype-highlight reads them).
// Highlighting runs after sanitizing, so the `hljs` / `hljs-*` classes it adds are ours, not the model's.
const schema = {
  ...defaultSchema,
  attributes: {
    ...defaultSchema.attributes,
    code: [['className', /^language-[\w+#.-]+$/]],
  },
};

interface HastParent {
  type: string;
  value?: string;
  children?: HastParent[];
}

/**
 * Raw HTML in the model's Markdown becomes visible text (the user sees what the model wrote). Without
 * this, rehype-sanitize would drop it silently; nothing is ever parsed as HTML (no rehype-raw).
 */
function rehypeRawAsText() {
  const walk = (node: HastParent) => {
    if (!node.children) return;
    node.children = node.children.map((child) => (child.type === 'raw' ? { type: 'text', value: child.value ?? '' } : child));
    node.children.forEach(walk);
  };
  return (tree: HastParent) => walk(tree);
}

const rehypePlugins: PluggableList = [
  rehypeRawAsText,
  [rehypeSanitize, schema],
  [rehypeHighlight, { detect: false, plainText: ['text', 'txt', 'plain', 'plaintext'] }],
];
const remarkPlugins: PluggableList = [remarkGfm];

interface HastLike {
  type: string;
  value?: string;
  tagName?: string;
  properties?: Record<string, unknown>;
  children?: HastLike[];
}

function hastText(node: HastLike | undefined): string {
  if (!node) return '';
  if (node.type === 'text') return node.value ?? '';
  return (node.children ?? []).map(hastText).join('');
}

function codeLanguage(node: HastLike | undefined): string | null {
  const code = node?.children?.find((c) => c.type === 'element' && c.tagName === 'code');
  const classes = code?.properties?.className;
  if (!Array.isArray(classes)) return null;
  for (const c of classes) {
    if (typeof c === 'string' && c.startsWith('language-')) return c.slice('language-'.length);
  }
  return null;
}

function CodeBlock({ language, text, children }: { language: string | null; text: string; children: ReactNode }) {
  const { copied, copy } = useCopy();
  return (
    <div className="code-block">
      <div className="code-block__header">
        <span className="code-block__lang">{language ?? 'text'}</span>
        {/* The icon is drawn by CSS: the reply's DOM holds no <svg>, whatever the model wrote. */}
        <button
          type="button"
          className={`code-block__copy${copied ? ' is-copied' : ''}`}
          aria-label={copied ? 'Copied' : 'Copy code'}
          onClick={() => copy(text)}
        >
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
      <pre>{children}</pre>
    </div>
  );
}

const components: Components = {
  pre({ node, children }) {
    const hast = node as HastLike | undefined;
    return (
      <CodeBlock language={codeLanguage(hast)} text={hastText(hast).replace(/\n$/, '')}>
        {children}
      </CodeBlock>
    );
  },
  a({ href, children }) {
    // The same rule as the Electron shell's: absolute http(s) only; anything else is plain text.
    const safe = externalLinkHref(href);
    if (!safe) return <span className="md-link-text">{children}</span>;
    return (
      <a href={safe} target="_blank" rel="noopener noreferrer" title={safe}>
        {children}
      </a>
    );
  },
  // Nothing remote is ever loaded: an image becomes its alt text.
  img({ alt }) {
    return <span className="md-image-alt">[image{alt ? `: ${alt}` : ''}]</span>;
  },
  table({ children }) {
    return (
      <div className="md-table-wrap">
        <table>{children}</table>
      </div>
    );
  },
};

/** Renders untrusted model output as Markdown: GFM, sanitized, highlighted, with no remote content. */
export const Markdown = memo(function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown remarkPlugins={remarkPlugins} rehypePlugins={rehypePlugins} components={components}>
        {text}
      </ReactMarkdown>
    </div>
  );
});
