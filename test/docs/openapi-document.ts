/**
 * `docs/openapi.yaml`, loaded once, and the check of one real response against what it says
 * for that route and status: the status is documented, the content type is one of its media
 * types, the body matches that schema, and each documented header is there and matches.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parse } from 'yaml';

const DOCUMENT_ID = 'openapi';
const path = new URL('../../docs/openapi.yaml', import.meta.url);

type Node = Record<string, unknown>;

/** The parsed document. */
export const openapi = parse(readFileSync(path, 'utf8')) as Node & {
  paths: Record<string, Record<string, { responses: Record<string, Node> }>>;
  components: { schemas: Record<string, Node>; responses: Record<string, Node> };
};

const ajv = new Ajv2020({ allErrors: true });
// The document's own keys are not JSON Schema: known to Ajv, validated by nothing.
ajv.addVocabulary(['openapi', 'info', 'servers', 'paths', 'components']);
ajv.addSchema(openapi, DOCUMENT_ID);

/** Headers whose absence or presence the document decides: one it does not list is drift. */
const GOVERNED_HEADERS = ['cache-control', 'retry-after', 'www-authenticate', 'allow'];

/** A JSON pointer into the document, as a URI fragment. */
export const pointer = (...tokens: string[]): string =>
  `#/${tokens.map((token) => token.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;

/** The node at a pointer and the pointer it really lives at, `$ref`s followed. */
export function resolve(at: string): { at: string; node: Node } {
  let node: unknown = openapi;
  for (const token of at.slice(2).split('/')) {
    const key = token.replaceAll('~1', '/').replaceAll('~0', '~');
    node = typeof node === 'object' && node !== null ? (node as Node)[key] : undefined;
  }
  if (typeof node !== 'object' || node === null) throw new Error(`nothing at ${at}`);
  const ref = (node as Node).$ref;
  return typeof ref === 'string' ? resolve(ref) : { at, node: node as Node };
}

/** Errors of `value` against the schema at a pointer; empty when it conforms. */
export function schemaErrors(at: string, value: unknown): string[] {
  const validate = ajv.getSchema(`${DOCUMENT_ID}${at}`);
  if (validate === undefined) return [`no schema at ${at}`];
  if (validate(value)) return [];
  return (validate.errors ?? []).map(
    ({ instancePath, message }) => `${at}: ${instancePath || '(root)'} ${message}`,
  );
}

export interface Observed {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

/**
 * Where the document describes this status of this operation, or of a component response
 * (`components.responses.NotFound`) for answers no operation owns.
 */
export function responseFor(
  target: { path: string; method: string } | { component: string },
  status: number,
): string | undefined {
  if ('component' in target) return pointer('components', 'responses', target.component);
  const operation = openapi.paths[target.path]?.[target.method.toLowerCase()];
  if (operation === undefined || !(String(status) in operation.responses)) return undefined;
  return resolve(
    pointer('paths', target.path, target.method.toLowerCase(), 'responses', String(status)),
  ).at;
}

/** Every way the observed response differs from the documented one at `at`. */
export function responseErrors(at: string, observed: Observed): string[] {
  const { node } = resolve(at);
  const errors: string[] = [];
  const headers = (node.headers ?? {}) as Record<string, Node>;
  const documented = new Set(Object.keys(headers).map((name) => name.toLowerCase()));
  for (const name of Object.keys(headers)) {
    const { at: headerAt, node: resolved } = resolve(`${at}/headers/${pointer(name).slice(2)}`);
    const value = observed.headers.get(name);
    if (value === null) {
      if (resolved.required === true) errors.push(`header ${name} is missing`);
      continue;
    }
    const schema = resolved.schema as Node | undefined;
    const typed = schema?.type === 'integer' && /^-?\d+$/.test(value) ? Number(value) : value;
    errors.push(...schemaErrors(`${headerAt}/schema`, typed));
  }
  for (const name of GOVERNED_HEADERS) {
    if (observed.headers.has(name) && !documented.has(name))
      errors.push(`header ${name} is not documented`);
  }

  if (node.content === undefined) {
    // A response documented without content (204) has none.
    if (observed.body !== '') errors.push('a body is not documented');
    if (observed.headers.has('content-type')) errors.push('a content type is not documented');
    return errors;
  }
  const content = node.content as Record<string, Node>;
  const mediaType = (observed.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
  if (!(mediaType in content)) {
    errors.push(
      `content type "${mediaType}" is not documented (${Object.keys(content).join(', ')})`,
    );
    return errors;
  }
  let body: unknown;
  try {
    body = JSON.parse(observed.body);
  } catch {
    errors.push('the body is not JSON');
    return errors;
  }
  errors.push(...schemaErrors(`${at}/content/${pointer(mediaType).slice(2)}/schema`, body));
  return errors;
}
