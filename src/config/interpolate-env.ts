// `${VAR}` interpolation so secrets stay out of the config file. Hand-written rather than a
// library: the grammar is two forms and an escape, and it must run on YAML nodes (to keep each
// scalar's position for errors) and remember what it substituted (to keep secrets out of messages).

import { isMap, isPair, isScalar, isSeq, parse as parseYaml } from 'yaml';
import type { Node, Scalar } from 'yaml';
import type { Environment } from './environment.ts';
import type { DocumentPath } from './document-path.ts';
import type { YamlSource } from './yaml-positions.ts';

/** One `${...}` replaced by a value; kept so messages can show the reference instead of the value. */
export interface Substitution {
  reference: string;
  value: string;
  /** False when the value is the reference's own default, which is in the file anyway. */
  fromEnvironment: boolean;
}

export interface InterpolatedString {
  value: string;
  substitutions: Substitution[];
  /** Messages naming what is wrong, quoting the reference, never a value. */
  problems: string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function resolveReference(body: string, env: Environment): { value?: string; fromEnvironment?: boolean; problem?: string } {
  const separator = body.indexOf(':-');
  const name = separator === -1 ? body : body.slice(0, separator);
  const fallback = separator === -1 ? undefined : body.slice(separator + 2);
  if (!NAME.test(name)) {
    return { problem: `"\${${body}}" is not a variable reference; write \${NAME} or \${NAME:-default} (and $\${ for a literal "\${")` };
  }
  const value = env[name];
  // Like the shell: the default also covers a variable that is set but empty.
  if (fallback !== undefined && (value === undefined || value === '')) return { value: fallback, fromEnvironment: false };
  if (value === undefined) {
    return { problem: `environment variable ${name} is not set (referenced as \${${name}}); set it, or give a default with \${${name}:-default}` };
  }
  return { value, fromEnvironment: true };
}

/** Replaces `${VAR}` and `${VAR:-default}` in one string; `$${` stands for a literal `${`. */
export function interpolateString(text: string, env: Environment): InterpolatedString {
  const result: InterpolatedString = { value: '', substitutions: [], problems: [] };
  let index = 0;
  while (index < text.length) {
    if (text.startsWith('$${', index)) {
      result.value += '${';
      index += 3;
      continue;
    }
    if (!text.startsWith('${', index)) {
      result.value += text[index];
      index += 1;
      continue;
    }
    const end = text.indexOf('}', index + 2);
    if (end === -1) {
      result.problems.push(`unclosed "\${" in "${text}"; close it with "}", or write $\${ for a literal "\${"`);
      return result;
    }
    const reference = text.slice(index, end + 1);
    const resolved = resolveReference(text.slice(index + 2, end), env);
    if (resolved.problem !== undefined) result.problems.push(resolved.problem);
    else {
      result.value += resolved.value;
      result.substitutions.push({ reference, value: resolved.value as string, fromEnvironment: resolved.fromEnvironment === true });
    }
    index = end + 1;
  }
  return result;
}

/** A problem found while interpolating, at the scalar it came from. */
export interface InterpolationProblem {
  path: DocumentPath;
  message: string;
}

/** What a scalar looked like before interpolation, so messages can quote it instead of a secret. */
export interface InterpolatedScalar {
  path: DocumentPath;
  original: string;
  /** The text after interpolation (before a plain scalar is re-read as a number or boolean). */
  value: string;
  substitutions: Substitution[];
}

export interface DocumentInterpolation {
  problems: InterpolationProblem[];
  scalars: InterpolatedScalar[];
}

/**
 * An unquoted `port: ${PORT}` should become the number 5432, as if written in place; quoted
 * scalars stay strings, which is how YAML already lets people say "this is text".
 */
function retype(scalar: Scalar, text: string): unknown {
  if (scalar.type !== 'PLAIN') return text;
  const parsed: unknown = /^(-?\d+(\.\d+)?|true|false)$/.test(text) ? parseYaml(text) : text;
  return parsed;
}

function interpolateScalar(scalar: Scalar, path: DocumentPath, env: Environment, out: DocumentInterpolation): void {
  if (typeof scalar.value !== 'string' || !scalar.value.includes('${')) return;
  const original = scalar.value;
  const result = interpolateString(original, env);
  for (const message of result.problems) out.problems.push({ path, message });
  if (result.problems.length > 0) return;
  scalar.value = retype(scalar, result.value);
  out.scalars.push({ path, original, value: result.value, substitutions: result.substitutions });
}

function visit(node: unknown, path: DocumentPath, env: Environment, out: DocumentInterpolation): void {
  if (isScalar(node)) interpolateScalar(node, path, env, out);
  else if (isSeq(node)) node.items.forEach((item, index) => visit(item, [...path, index], env, out));
  else if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      // Keys are names, not values: they are never interpolated.
      const key = isScalar(pair.key) ? pair.key.value : pair.key;
      visit(pair.value, [...path, String(key)], env, out);
    }
  }
}

/** Interpolates every string scalar of the document in place (aliases share their anchor's node). */
export function interpolateDocument(source: YamlSource, env: Environment): DocumentInterpolation {
  const out: DocumentInterpolation = { problems: [], scalars: [] };
  visit(source.document.contents as Node | null, [], env, out);
  return out;
}

// Values this short could be ordinary words or numbers in a message; replacing them everywhere
// would garble the text, and a secret is never this short.
const MIN_REDACTED_LENGTH = 4;

function samePath(a: DocumentPath, b: DocumentPath): boolean {
  return a.length === b.length && a.every((segment, index) => String(segment) === String(b[index]));
}

/**
 * Puts the written text back where an interpolated value appears in a message, so a secret that
 * reached an error text (a zod message quoting its input) shows as `${PD_KEY}`, never as itself.
 * `path` is where the message is about: that scalar's whole value is replaced whatever its length.
 */
export function redactSubstitutions(message: string, path: DocumentPath, interpolation: DocumentInterpolation): string {
  let redacted = message;
  const own = interpolation.scalars.find((scalar) => samePath(scalar.path, path));
  if (own && own.value.length > 0) redacted = redacted.split(own.value).join(own.original);
  const secrets = interpolation.scalars
    .flatMap((scalar) => scalar.substitutions)
    .filter((substitution) => substitution.fromEnvironment && substitution.value.length >= MIN_REDACTED_LENGTH)
    // Longest first, so a value containing another value is replaced whole.
    .sort((a, b) => b.value.length - a.value.length);
  for (const { reference, value } of secrets) redacted = redacted.split(value).join(reference);
  return redacted;
}
