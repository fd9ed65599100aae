import { classColour } from '@symseq/attnviz';
import { type PrefixNode, prefixTree } from '@symseq/probe';
import type { GalleryItem } from './model';
import { byId, chip } from './view';

/** Example thumbnails per tree node. */
export const TREE_THUMBS = 4;

/** The gallery as a prefix tree: first symbol → groups, second → subgroups, … */
export function galleryTree(gallery: GalleryItem[], numClasses: number): PrefixNode {
  const labelled = gallery.length > 0 && gallery.every((g) => g.label !== undefined);
  return prefixTree(
    gallery.map((g) => g.symbols),
    labelled ? { labels: gallery.map((g) => g.label as number), numClasses } : {},
  );
}

/**
 * Renders the tree into #tree: one row per node with its symbols, image count, class-mix bar and a
 * few thumbnails. A node's children are drawn when it is opened (its ▸ button, or choosing it).
 * Choosing a node calls `onSelect` with it (the page filters the gallery to its images).
 */
export function renderTree(
  gallery: GalleryItem[],
  classes: string[],
  onSelect: (node: PrefixNode) => void,
): PrefixNode {
  const root = galleryTree(gallery, classes.length);
  const container = byId('tree');
  container.dataset.total = String(root.members.length);
  container.replaceChildren(level(root.children, gallery, classes, onSelect));
  byId('tree-legend').replaceChildren(
    ...(root.classCounts ?? []).map((_, c) => {
      const key = document.createElement('span');
      key.className = 'key';
      const swatch = document.createElement('span');
      const [r, g, b] = classColour(c);
      swatch.style.background = `rgb(${r} ${g} ${b})`;
      key.append(swatch, classes[c] ?? `class ${c}`);
      return key;
    }),
  );
  return root;
}

function level(
  nodes: PrefixNode[],
  gallery: GalleryItem[],
  classes: string[],
  onSelect: (node: PrefixNode) => void,
): HTMLUListElement {
  const ul = document.createElement('ul');
  ul.className = 'tree-level';
  ul.setAttribute('role', 'group');
  ul.append(...nodes.map((n) => nodeElement(n, gallery, classes, onSelect)));
  return ul;
}

function nodeElement(
  node: PrefixNode,
  gallery: GalleryItem[],
  classes: string[],
  onSelect: (node: PrefixNode) => void,
): HTMLLIElement {
  const li = document.createElement('li');
  li.className = 'tree-node';
  li.dataset.prefix = node.prefix.join(' ');
  li.dataset.count = String(node.members.length);
  li.dataset.depth = String(node.depth);
  li.setAttribute('role', 'treeitem');

  const toggle = document.createElement('button');
  toggle.type = 'button';
  toggle.className = 'tree-toggle';
  const leaf = node.children.length === 0;
  toggle.disabled = leaf;
  toggle.textContent = leaf ? '·' : '▸';
  toggle.setAttribute('aria-label', leaf ? 'no longer prefix' : `show what follows ${node.prefix.join(' ')}`);
  toggle.setAttribute('aria-expanded', 'false');

  const select = document.createElement('button');
  select.type = 'button';
  select.className = 'tree-select';
  select.title = `show the ${node.members.length} gallery images whose symbols start with ${node.prefix.join(' ')}`;
  const chips = document.createElement('span');
  chips.className = 'chips';
  chips.append(...node.prefix.map((s, i) => chip(s, `position ${i + 1}: symbol ${s}`, i < node.depth - 1)));
  const count = document.createElement('span');
  count.className = 'tree-count';
  count.textContent = `${node.members.length} ${node.members.length === 1 ? 'image' : 'images'}`;
  select.append(chips, count);
  if (node.classCounts) select.append(mixBar(node.classCounts, classes));
  const thumbs = document.createElement('span');
  thumbs.className = 'tree-thumbs';
  thumbs.append(
    ...node.members.slice(0, TREE_THUMBS).map((i) => {
      const img = document.createElement('img');
      img.src = gallery[i].url;
      img.alt = gallery[i].class ?? gallery[i].file;
      img.loading = 'lazy';
      return img;
    }),
  );
  select.append(thumbs);

  const row = document.createElement('div');
  row.className = 'tree-row';
  row.append(toggle, select);
  li.append(row);

  let children: HTMLUListElement | undefined;
  const open = (show: boolean) => {
    if (leaf) return;
    if (show && !children) {
      children = level(node.children, gallery, classes, onSelect);
      li.append(children);
    }
    if (children) children.hidden = !show;
    toggle.textContent = show ? '▾' : '▸';
    toggle.setAttribute('aria-expanded', String(show));
  };
  toggle.addEventListener('click', () => open(toggle.getAttribute('aria-expanded') !== 'true'));
  select.addEventListener('click', () => {
    byId('tree')
      .querySelectorAll('.tree-select.selected')
      .forEach((el) => {
        el.classList.remove('selected');
      });
    select.classList.add('selected');
    open(true);
    onSelect(node);
  });
  return li;
}

/** A bar of class colours, widths in proportion to the counts, each part titled with its class. */
function mixBar(counts: number[], classes: string[]): HTMLElement {
  const bar = document.createElement('span');
  bar.className = 'mix';
  const total = counts.reduce((a, b) => a + b, 0);
  counts.forEach((n, c) => {
    if (!n) return;
    const part = document.createElement('span');
    const [r, g, b] = classColour(c);
    part.style.background = `rgb(${r} ${g} ${b})`;
    part.style.width = `${((100 * n) / total).toFixed(2)}%`;
    part.title = `${classes[c] ?? `class ${c}`}: ${n}`;
    part.dataset.class = String(c);
    part.dataset.count = String(n);
    bar.append(part);
  });
  return bar;
}
