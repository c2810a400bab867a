// Maps paths inside a parsed YAML document back to file:line:column, so every config problem can
// say where it is. The `yaml` package keeps node offsets and a LineCounter turns them into lines.

import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node, Pair } from 'yaml';
import type { ConfigProblem, SourceLocation } from '../errors.ts';
import type { DocumentPath } from './document-path.ts';

/** A parsed YAML file together with what is needed to point into it. */
export interface YamlSource {
  file: string;
  document: Document.Parsed;
  lineCounter: LineCounter;
}

/**
 * Where a problem should point: at the value itself, at the key that names it (unknown keys), or
 * at the mapping that should contain it (missing keys).
 */
export type NodeTarget = 'value' | 'key' | 'parent';

interface Step {
  node: Node;
  /** The mapping pair the node is the value of, when it is one. */
  pair?: Pair;
}

// `{ url: ${URL} }` is the easiest YAML mistake to make with pipewarden: inside { } or [ ] the
// braces of an unquoted reference are read as YAML syntax. Say so instead of leaving the reader
// with "Unexpected flow-map-start".
const UNQUOTED_FLOW_REFERENCE = /[{[,][^"'#]*?(?<!["'$])\$\{/;

function syntaxMessage(code: string, message: string, lineText: string): string {
  if (code === 'MULTIPLE_DOCS') return 'YAML syntax error: the file holds several YAML documents (split by "---"); keep the config in one';
  const first = message.split('\n')[0] ?? message;
  const hint = UNQUOTED_FLOW_REFERENCE.test(lineText)
    ? 'inside { } or [ ], put ${VAR} references in quotes: "${VAR}"'
    : 'fix the YAML before the settings can be checked';
  return `YAML syntax error: ${first} (${hint})`;
}

export function parseYamlSource(file: string, text: string): { source: YamlSource; problems: ConfigProblem[] } {
  const lineCounter = new LineCounter();
  // prettyErrors off: the positions are added by formatProblem, the message stays one line.
  const document = parseDocument(text, { lineCounter, prettyErrors: false });
  const source: YamlSource = { file, document, lineCounter };
  const lines = text.split('\n');
  const problems: ConfigProblem[] = [];
  for (const error of document.errors) {
    const location = locationAt(source, error.pos[0]);
    // After one error the parser often reports every following token of that line; the first says it.
    if (problems.some((problem) => problem.location.line === location.line)) continue;
    problems.push({ location, path: '', message: syntaxMessage(error.code, error.message, lines[location.line - 1] ?? '') });
  }
  return { source, problems };
}

export function locationAt(source: YamlSource, offset: number): SourceLocation {
  const { line, col } = source.lineCounter.linePos(offset);
  return { file: source.file, line, column: col };
}

function resolveAlias(source: YamlSource, node: unknown): unknown {
  return isAlias(node) ? node.resolve(source.document) : node;
}

function childStep(source: YamlSource, parent: Node, segment: string | number): Step | undefined {
  const node = resolveAlias(source, parent);
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = isScalar(pair.key) ? pair.key.value : pair.key;
      if (String(key) !== String(segment)) continue;
      const value = resolveAlias(source, pair.value) as Node | null;
      // A key with no value at all still has a position: its key.
      return { node: value ?? (pair.key as Node), pair };
    }
    return undefined;
  }
  if (isSeq(node) && typeof segment === 'number') {
    const item = resolveAlias(source, node.items[segment]) as Node | null | undefined;
    return item ? { node: item } : undefined;
  }
  return undefined;
}

/** The chain of nodes along `path`, as far as the document goes. */
function walk(source: YamlSource, path: DocumentPath): Step[] {
  const root = source.document.contents;
  if (!root) return [];
  const steps: Step[] = [{ node: root }];
  for (const segment of path) {
    const next = childStep(source, (steps[steps.length - 1] as Step).node, segment);
    if (!next) break;
    steps.push(next);
  }
  return steps;
}

/** The YAML node at `path`, or undefined when the document does not contain it. */
export function nodeAt(source: YamlSource, path: DocumentPath): Node | undefined {
  const steps = walk(source, path);
  return steps.length === path.length + 1 ? steps[steps.length - 1]?.node : undefined;
}

function startOf(source: YamlSource, step: Step, preferKey: boolean): SourceLocation {
  const keyNode = step.pair?.key as Node | undefined;
  const node = preferKey && keyNode?.range ? keyNode : step.node;
  return locationAt(source, node.range?.[0] ?? 0);
}

/**
 * Where `path` sits in the file. Paths the document does not contain (a default, a missing key)
 * fall back to the deepest ancestor that exists, pointing at its key so the reader sees a name.
 * Returns the path to print: a list index into a value written as a single scalar is dropped.
 */
function isEmptyValue(node: Node): boolean {
  return isScalar(node) && node.value === null && (node.range === undefined || node.range === null || node.range[0] === node.range[1]);
}

/**
 * Where `path` sits in the file. Paths the document does not contain (a default, a missing key)
 * fall back to the deepest ancestor that exists, pointing at its key so the reader sees a name;
 * so does a key written without a value. A list index into a value written as a single scalar
 * (`assets: "a.*"` for `assets[0]`) points at that scalar, and the returned path drops the index.
 */
export function locate(source: YamlSource, path: DocumentPath, target: NodeTarget): { location: SourceLocation; path: DocumentPath } {
  const wanted = target === 'parent' ? path.slice(0, -1) : path;
  const steps = walk(source, wanted);
  const deepest = steps[steps.length - 1];
  if (!deepest) return { location: { file: source.file, line: 1, column: 1 }, path };
  const resolved = steps.length - 1;
  const complete = resolved === wanted.length;
  const scalarIndexed = !complete && isScalar(deepest.node) && typeof wanted[resolved] === 'number';
  const pointAtValue = (target === 'value' && complete && !isEmptyValue(deepest.node)) || scalarIndexed;
  return { location: startOf(source, deepest, !pointAtValue), path: scalarIndexed ? path.slice(0, resolved) : path };
}
