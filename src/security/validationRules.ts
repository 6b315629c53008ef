import { ApolloArmor } from '@escape.tech/graphql-armor';
import { GraphQLError, Kind, visit, type DocumentNode, type FieldNode, type SelectionSetNode, type ValidationRule } from 'graphql';
import type { GatewayConfig } from '../config/loadConfig';
import { ErrorCode } from '../errors/codes';

type Limits = Pick<GatewayConfig['limits'], 'maxDepth' | 'maxAliases' | 'maxAliasLength' | 'enableIntrospection'>;

/** Armor's other protections are off: maxTokens, hidden suggestions and the estimate do them here. */
export function securityValidationRules(limits: Limits): ValidationRule[] {
  const armor = new ApolloArmor({
    maxDepth: { n: limits.maxDepth, ignoreIntrospection: true, flattenFragments: true },
    // Aliases of `__typename` count too: each is one more key in every item of every list it sits under.
    maxAliases: { n: limits.maxAliases, allowList: [] },
    maxDirectives: { enabled: false },
    maxTokens: { enabled: false },
    costLimit: { enabled: false },
    blockFieldSuggestion: { enabled: false },
  });
  const rules = [NoIncrementalDeliveryRule, aliasLengthRule(limits.maxAliasLength), ...armor.protect().validationRules];
  rules.push(limits.enableIntrospection ? IntrospectionRepeatsRule : IntrospectionDisabledRule);
  return rules;
}

/** How often one operation may select each introspection root field. The answer to `__schema` is made anew
 * for each selection of it, for any caller, token or not, with no upstream call. graphql-js's
 * getIntrospectionQuery(), which GraphiQL, Apollo Sandbox and codegen send, selects `__schema` once; a
 * capability probe (gql.tada's) selects `__type` four times, each a single type's answer. */
export const INTROSPECTION_FIELD_LIMITS: Readonly<Record<'__schema' | '__type', number>> = { __schema: 1, __type: 8 };
const INTROSPECTION_FIELDS = Object.keys(INTROSPECTION_FIELD_LIMITS) as Array<keyof typeof INTROSPECTION_FIELD_LIMITS>;

/** Each field is counted wherever its fragment is spread, and under `@skip`/`@include` too: the count reads
 * nothing a document's shape leaves out, so a shape admission knows valid passes it again. Each fragment is
 * counted once per document and its counts kept (saturated past the limits): linear, however it is spread. */
const IntrospectionRepeatsRule: ValidationRule = (context) => {
  const fragments = new Map<string, number[] | undefined>();
  // An alias below `__schema` or `__type` (`t0: types { … }` … `t29: types { … }`) makes that part of the
  // schema's answer once more, as an alias of `__schema` itself would. Per fragment once: linear.
  const aliasing = new Map<string, boolean>();
  const aliases = (set: SelectionSetNode): boolean =>
    set.selections.some((selection) => {
      if (selection.kind === Kind.INLINE_FRAGMENT) return aliases(selection.selectionSet);
      if (selection.kind === Kind.FIELD) {
        const aliased = selection.alias !== undefined && selection.alias.value !== selection.name.value;
        return aliased || (selection.selectionSet !== undefined && aliases(selection.selectionSet));
      }
      const name = selection.name.value;
      if (!aliasing.has(name)) {
        // False while it is walked: a cycle, which NoFragmentCyclesRule refuses.
        aliasing.set(name, false);
        const fragment = context.getFragment(name);
        aliasing.set(name, fragment != null && aliases(fragment.selectionSet));
      }
      return aliasing.get(name)!;
    });
  let aliasedBelow: FieldNode | undefined;
  const count = (set: SelectionSetNode): number[] => {
    const counts = INTROSPECTION_FIELDS.map(() => 0);
    const add = (more: readonly number[]) => more.forEach((n, i) => (counts[i]! += n));
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const i = INTROSPECTION_FIELDS.indexOf(selection.name.value as keyof typeof INTROSPECTION_FIELD_LIMITS);
        if (i >= 0) counts[i]! += 1;
        if (i >= 0 && aliasedBelow === undefined && selection.selectionSet !== undefined && aliases(selection.selectionSet)) aliasedBelow = selection;
        if (selection.selectionSet) add(count(selection.selectionSet));
      } else if (selection.kind === Kind.INLINE_FRAGMENT) add(count(selection.selectionSet));
      else add(ofFragment(selection.name.value));
    }
    return counts.map((n, i) => Math.min(n, INTROSPECTION_FIELD_LIMITS[INTROSPECTION_FIELDS[i]!] + 1));
  };
  const ofFragment = (name: string): readonly number[] => {
    // Being counted: a cycle, which NoFragmentCyclesRule refuses.
    if (fragments.has(name)) return fragments.get(name) ?? [];
    fragments.set(name, undefined);
    const fragment = context.getFragment(name);
    const counts = fragment == null ? [] : count(fragment.selectionSet);
    fragments.set(name, counts);
    return counts;
  };
  return {
    OperationDefinition(operation) {
      count(operation.selectionSet).forEach((n, i) => {
        const field = INTROSPECTION_FIELDS[i]!;
        const limit = INTROSPECTION_FIELD_LIMITS[field];
        if (n <= limit) return;
        const times = limit === 1 ? 'once' : `${limit} times`;
        const message = `One operation may select ${field} at most ${times} (aliases and fragments included); this one selects it more often.`;
        context.reportError(new GraphQLError(message, { nodes: operation }));
      });
      if (aliasedBelow !== undefined) {
        const field = aliasedBelow.name.value;
        const message = `Fields under ${field} may not be aliased: each alias makes that part of the schema's answer again.`;
        context.reportError(new GraphQLError(message, { nodes: aliasedBelow }));
        aliasedBelow = undefined;
      }
      return false;
    },
  };
};

/** Fields of one response name a selection set may hold (with selections, or leaves, which compare cheaply),
 * and fragments it may spread, with its inline fragments and the fragments it spreads: graphql-js's
 * OverlappingFieldsCanBeMergedRule compares each pair of them, and the selections below. */
export const MAX_FIELD_REPEATS = 30;
export const MAX_LEAF_REPEATS = 100;
export const MAX_FRAGMENT_SPREADS = 100;
/** Fragment names and fields the check may visit for a whole document: past it the document is refused. */
const MAX_CHECK_STEPS = 50_000;

/** Why a selection set holds more than those bounds let validation compare, if one does. Each fragment is
 * counted once per selection set however many paths spread it, and the walk has a budget. */
export function selectionSetExcess(document: DocumentNode): string | undefined {
  const fragments = new Map<string, SelectionSetNode>();
  const pending: SelectionSetNode[] = [];
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition.selectionSet);
    if ('selectionSet' in definition && definition.selectionSet) pending.push(definition.selectionSet);
  }
  let steps = 0;
  const sets: SelectionSetNode[] = [];
  for (let set = pending.pop(); set !== undefined; set = pending.pop()) {
    sets.push(set);
    const counts = new Map<string, number>();
    const seen = new Set<string>();
    let spreads = 0;
    // The set's own selections (their field sets go below), then each fragment they reach, once.
    const inline: Array<[SelectionSetNode, boolean]> = [[set, true]];
    for (let next = inline.pop(); next !== undefined; next = inline.pop()) {
      const [selections, own] = next;
      for (const selection of selections.selections) {
        if ((steps += 1) > MAX_CHECK_STEPS) return 'The document spreads its fragments in too many places to be checked.';
        if (selection.kind === Kind.INLINE_FRAGMENT) inline.push([selection.selectionSet, own]);
        else if (selection.kind === Kind.FRAGMENT_SPREAD) {
          if (own && ++spreads > MAX_FRAGMENT_SPREADS) return `A selection set spreads more than ${MAX_FRAGMENT_SPREADS} fragments.`;
          const fragment = fragments.get(selection.name.value);
          if (fragment !== undefined && !seen.has(selection.name.value)) {
            seen.add(selection.name.value);
            inline.push([fragment, false]);
          }
        } else {
          const name = (selection.alias ?? selection.name).value;
          const count = (counts.get(name) ?? 0) + 1;
          const limit = selection.selectionSet ? MAX_FIELD_REPEATS : MAX_LEAF_REPEATS;
          if (count > limit) return `"${name}" is selected more than ${limit} times in one selection set.`;
          counts.set(name, count);
          if (own && selection.selectionSet) pending.push(selection.selectionSet);
        }
      }
    }
  }
  return comparisonsExceed(sets, fragments) ? 'The document needs more field comparisons than validation may make.' : undefined;
}

/** Pairs of same-named fields OverlappingFieldsCanBeMergedRule may compare, counted as it compares them: in
 * each selection set, and below each pair, their selections' (within one set, sibling sets multiply). */
const MAX_FIELD_COMPARISONS = 20_000;

function comparisonsExceed(sets: readonly SelectionSetNode[], fragments: ReadonlyMap<string, SelectionSetNode>): boolean {
  let left = MAX_FIELD_COMPARISONS;
  // A field's selections and the fragment it came in by (none: the set's own, or an inline fragment's).
  type Entry = { readonly below: SelectionSetNode | undefined; readonly via: string | undefined };
  const merged = new Map<SelectionSetNode, Map<string, Entry[]>>();
  // A set's fields by response name, with its inline fragments' and its fragments' (each once).
  const fieldsOf = (set: SelectionSetNode) => {
    let byName = merged.get(set);
    if (byName !== undefined) return byName;
    byName = new Map();
    const seen = new Set<string>();
    const inline: Array<[SelectionSetNode, string | undefined]> = [[set, undefined]];
    for (let next = inline.pop(); next !== undefined && left >= 0; next = inline.pop()) {
      const [selections, via] = next;
      for (const selection of selections.selections) {
        left -= 1;
        if (selection.kind === Kind.INLINE_FRAGMENT) inline.push([selection.selectionSet, via]);
        else if (selection.kind === Kind.FRAGMENT_SPREAD) {
          const fragment = fragments.get(selection.name.value);
          if (fragment !== undefined && !seen.has(selection.name.value)) inline.push([fragment, via ?? selection.name.value]);
          seen.add(selection.name.value);
        } else {
          const name = (selection.alias ?? selection.name).value;
          const entries = byName.get(name) ?? [];
          if (entries.push({ below: selection.selectionSet, via }) === 1) byName.set(name, entries);
        }
      }
    }
    merged.set(set, byName);
    return byName;
  };
  // graphql-js compares a fragment with itself never, and two fragments (all their fields) once.
  const compared = new Set<string>();
  const pair = (x: Entry, y: Entry, fresh: Set<string>): void => {
    if (x.via !== undefined && y.via !== undefined) {
      if (x.via === y.via) return;
      const key = x.via < y.via ? `${x.via} ${y.via}` : `${y.via} ${x.via}`;
      if (compared.has(key)) return;
      fresh.add(key);
    }
    if ((left -= 1) >= 0 && x.below !== undefined && y.below !== undefined) between(x.below, y.below);
  };
  const done = (fresh: Set<string>) => fresh.forEach((key) => compared.add(key));
  const between = (a: SelectionSetNode, b: SelectionSetNode): void => {
    const ofB = fieldsOf(b);
    const fresh = new Set<string>();
    for (const [name, ours] of fieldsOf(a)) for (const x of ours) for (const y of ofB.get(name) ?? []) if (left >= 0) pair(x, y, fresh);
    done(fresh);
  };
  for (const set of sets) {
    const fresh = new Set<string>();
    for (const same of fieldsOf(set).values()) {
      for (let i = 0; i < same.length && left >= 0; i += 1) for (let j = i + 1; j < same.length; j += 1) pair(same[i]!, same[j]!, fresh);
    }
    done(fresh);
    if (left < 0) return true;
  }
  return left < 0;
}

/** An alias is written again for every item of each list it sits under, and in the path of every error below
 * it: its length would multiply the answer as much as a list's size does. */
function aliasLengthRule(maxLength: number): ValidationRule {
  return (context) => ({
    Field(node) {
      if (node.alias === undefined || node.alias.value.length <= maxLength) return;
      const message = `An alias may be at most ${maxLength} characters long (MAX_ALIAS_LENGTH): every item of a list, and every error below it, repeats it.`;
      context.reportError(new GraphQLError(message, { nodes: node.alias }));
    },
  });
}

/** Apollo's own rule's message advises whoever wrote the server; `_service { sdl }` is the whole schema. */
const IntrospectionDisabledRule: ValidationRule = (context) => ({
  Field(node) {
    const name = node.name.value;
    if (name === '__schema' || name === '__type') {
      const message =
        'Introspection is disabled on this gateway (ENABLE_INTROSPECTION=false): the operation selects __schema or __type.';
      context.reportError(new GraphQLError(message, { nodes: [node] }));
    } else if (name === '_service' && context.getParentType()?.name === 'Query') {
      const message = 'The subgraph SDL (`_service`) is not available: introspection is disabled.';
      context.reportError(new GraphQLError(message, { nodes: node }));
    }
  },
});

// Apollo Server 5 delivers @defer/@stream only on a graphql-js 17 pre-release that @apollo/subgraph
// and graphql-jit do not run on. Reported before "Unknown directive"; formatError restores the code.
const NoIncrementalDeliveryRule: ValidationRule = (context) => ({
  Document(document) {
    visit(document, {
      Directive(node) {
        const directive = node.name.value;
        if (directive !== 'defer' && directive !== 'stream') return;
        const message = `@${directive} is not supported: this gateway answers every operation whole. Split the operation into one query per part instead.`;
        const extensions = { code: ErrorCode.DEFER_NOT_SUPPORTED, directive };
        context.reportError(new GraphQLError(message, { nodes: node, extensions }));
      },
      DirectiveDefinition: () => false,
    });
    return false;
  },
});
