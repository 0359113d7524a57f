/**
 * Just enough XML to read back the report's SVG: elements, attributes and text, with a clear
 * error on a tag closed out of order. Not a general parser (no comments, CDATA or entities
 * beyond the five XML ones).
 */
export interface SvgNode {
  tag: string;
  attrs: Record<string, string>;
  children: SvgNode[];
  text: string;
}

const unescape = (s: string) => s.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" })[e]!);

export function parseSvg(source: string): SvgNode {
  const root: SvgNode = { tag: '#root', attrs: {}, children: [], text: '' };
  const stack = [root];
  const token = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>|([^<]+)/g;
  let m: RegExpExecArray | null;
  while ((m = token.exec(source))) {
    const [, closing, tag, attrText, selfClosing, text] = m;
    const top = stack[stack.length - 1];
    if (text !== undefined) {
      top.text += unescape(text.trim());
      continue;
    }
    if (closing) {
      if (top.tag !== tag) throw new Error(`</${tag}> closes <${top.tag}>`);
      stack.pop();
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const [, k, v] of attrText.matchAll(/([\w:-]+)="([^"]*)"/g)) attrs[k] = unescape(v);
    const node: SvgNode = { tag, attrs, children: [], text: '' };
    top.children.push(node);
    if (!selfClosing) stack.push(node);
  }
  if (stack.length !== 1) throw new Error(`<${stack[stack.length - 1].tag}> is never closed`);
  if (root.children.length !== 1 || root.children[0].tag !== 'svg') throw new Error('expected one <svg> root element');
  return root.children[0];
}

/** Every element under `node` (itself included) that matches. */
export function findAll(node: SvgNode, match: (n: SvgNode) => boolean): SvgNode[] {
  return [...(match(node) ? [node] : []), ...node.children.flatMap((c) => findAll(c, match))];
}

export const hasClass = (cls: string) => (n: SvgNode) => (n.attrs.class ?? '').split(' ').includes(cls);
export const byTag = (tag: string) => (n: SvgNode) => n.tag === tag;
/** All text under a node, one string per <text> element. */
export const texts = (node: SvgNode) => findAll(node, byTag('text')).map((t) => t.text);
