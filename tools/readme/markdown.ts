// Code blocks of a README, as the README test reads them. The info string after the fence says what
// a block is (GitHub highlights by its first word only, so the flags do not show):
//   ```ts            a complete program: type-checked with tsc and run with Node, as copied
//   ```ts continued  continues the block before it (one program, checked and run together)
//   ```ts check      type-checked only: it needs what a test cannot have (a browser, the network);
//                    the README says so next to it
//   ```sh / ```bash  shell; its `npm install …` lines are the packages the README's consumer gets
// Any other block (text, diagrams, tables) is not code.

export interface Program {
  /** 1-based line of the first block's opening fence. */
  line: number;
  /** The nearest heading above it, for the test name. */
  heading: string;
  code: string;
  run: boolean;
  /** README line of each line of `code` (1-based), for error messages. */
  lines: number[];
}

export interface ReadmeCode {
  programs: Program[];
  /** Packages named by `npm install` (or `npm i`) lines, in order, without version ranges. */
  installs: string[];
}

const fence = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)\s*(.*)$/;

export function readmeCode(markdown: string, file: string): ReadmeCode {
  const text = markdown.split('\n');
  const programs: Program[] = [];
  const installs: string[] = [];
  let heading = '';
  for (let i = 0; i < text.length; i++) {
    const h = /^#{1,6}\s+(.*)$/.exec(text[i]);
    if (h) heading = h[1].trim();
    const open = fence.exec(text[i]);
    if (!open) continue;
    const [, indent, marks, lang, rest] = open;
    const flags = rest.split(/\s+/).filter(Boolean);
    const start = i;
    const body: string[] = [];
    for (i++; i < text.length && !text[i].trimStart().startsWith(marks); i++) {
      body.push(text[i].startsWith(indent) ? text[i].slice(indent.length) : text[i]);
    }
    if (i >= text.length) throw new Error(`${file}:${start + 1}: code block is never closed`);
    if (lang === 'sh' || lang === 'bash' || lang === 'shell') {
      for (const cmd of body) {
        const m = /^\s*(?:\$\s*)?npm\s+(?:install|i|add)\s+(.*)$/.exec(cmd);
        if (!m) continue;
        for (const arg of m[1].split(/\s+/).filter((a) => a && !a.startsWith('-'))) {
          installs.push(arg.replace(/^(@?[^@]+)@.*$/, '$1'));
        }
      }
      continue;
    }
    if (lang !== 'ts' && lang !== 'typescript') continue;
    const unknown = flags.filter((f) => f !== 'continued' && f !== 'check');
    if (unknown.length > 0) throw new Error(`${file}:${start + 1}: unknown code block flag '${unknown[0]}'`);
    const lines = body.map((_, k) => start + 2 + k);
    if (flags.includes('continued')) {
      const prev = programs.at(-1);
      if (!prev) throw new Error(`${file}:${start + 1}: a 'continued' block has no block before it`);
      prev.code += `\n${body.join('\n')}`;
      prev.lines.push(...lines);
      prev.run &&= !flags.includes('check');
      continue;
    }
    programs.push({ line: start + 1, heading, code: body.join('\n'), run: !flags.includes('check'), lines });
  }
  return { programs, installs };
}
