// A one-line plain-text preview of a Markdown message (the chat list shows the last message this way):
// the words a reader would see, without the marks that format them.

const RULES: [RegExp, string][] = [
  [/```[^\n]*\n?([\s\S]*?)(```|$)/g, '$1'], // fenced code: its content
  [/!\[([^\]]*)\]\([^)]*\)/g, '$1'], // images: their alt text
  [/\[([^\]]*)\]\([^)]*\)/g, '$1'], // links: their text
  [/^\s{0,3}#{1,6}\s+/gm, ''], // headings
  [/^\s*>\s?/gm, ''], // quotes
  [/^\s*(?:[-*+]|\d+[.)])\s+(?:\[[ xX]\]\s+)?/gm, ''], // list markers and task boxes
  [/\*\*(?=\S)([\s\S]*?\S)\*\*/g, '$1'], // strong
  [/(^|\W)__(?=\S)([\s\S]*?\S)__(?!\w)/g, '$1$2'],
  [/\*(?=\S)([\s\S]*?\S)\*/g, '$1'], // emphasis (`_` only between words, as in Markdown)
  [/(^|\W)_(?=\S)([\s\S]*?\S)_(?!\w)/g, '$1$2'],
  [/~~(?=\S)([\s\S]*?\S)~~/g, '$1'], // strikethrough
  [/`([^`]*)`/g, '$1'], // inline code
  [/\$\$([\s\S]*?)\$\$/g, '$1'], // display math
];

export function plainPreview(markdown: string, max = 200): string {
  let text = markdown.length > 4 * max ? markdown.slice(0, 4 * max) : markdown;
  for (const [re, by] of RULES) text = text.replace(re, by);
  text = text.replace(/\s+/g, ' ').trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
