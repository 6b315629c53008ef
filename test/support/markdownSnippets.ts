import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** A fenced code block of a Markdown file, with the directive of the HTML comment just above it. */
export interface Snippet {
  /** The file, relative to the repository. */
  readonly file: string;
  /** The line of the opening fence (1-based). */
  readonly line: number;
  /** The fence's info string (`ts`, `graphql`, …); empty for plain text such as a diagram. */
  readonly language: string;
  readonly code: string;
  /**
   * `<!-- snippet: not run: REASON -->` or `<!-- snippet: globals a b c -->` on the line before the
   * fence, without the `snippet:`; undefined where there is none.
   */
  readonly directive: string | undefined;
}

const DIRECTIVE = /^<!--\s*snippet:\s*(.*?)\s*-->$/;

/** The fenced blocks of one Markdown text (``` fences; indented blocks are not used in our docs). */
export function snippetsOf(file: string, markdown: string): Snippet[] {
  const lines = markdown.split('\n');
  const snippets: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (open === null) continue;
    const start = i;
    const body: string[] = [];
    for (i += 1; i < lines.length && !/^```\s*$/.test(lines[i]!); i++) body.push(lines[i]!);
    const directive = DIRECTIVE.exec((lines[start - 1] ?? '').trim())?.[1];
    snippets.push({ file, line: start + 1, language: open[1]!, code: body.join('\n'), directive });
  }
  return snippets;
}

/** README.md and every Markdown file of docs/, the texts a reader is sent to. */
export function readerSnippets(root: string): Snippet[] {
  const files = [join(root, 'README.md'), ...readdirSync(join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => join(root, 'docs', name))];
  return files.flatMap((path) => snippetsOf(relative(root, path), readFileSync(path, 'utf8')));
}
