import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import type { ApolloServerOptions, ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import type { GraphQLSchema, ValidationRule } from 'graphql';
import type { GatewayConfig } from '../config/loadConfig';
import type { GatewayContext } from '../graphql/context';
import { landingPagePlugin, type ExplorerOptions } from '../graphql/landingPage';
import { manifestHashCheck, persistedQueriesOption, safelistPlugin } from './persistedQueries';
import { operationTypePlugin } from './operationTypePlugin';
import { loadPersistedQueryManifest } from './persistedQueryManifest';
import { upstreamCostPlugin } from './upstreamCostPlugin';
import { securityValidationRules } from './validationRules';

type ExposureOptions = Required<
  Pick<
    ApolloServerOptions<GatewayContext>,
    | 'introspection'
    | 'hideSchemaDetailsFromClientErrors'
    | 'allowBatchedHttpRequests'
    | 'csrfPrevention'
    | 'persistedQueries'
    | 'parseOptions'
  >
> & {
  validationRules: ValidationRule[];
  plugins: ApolloServerPlugin<GatewayContext>[];
  /** PERSISTED_QUERIES=safelist: whether a document's text is a manifest operation's (for subscriptions; not an Apollo option). */
  safelisted: ((sourceHash: string) => boolean) | undefined;
};

/**
 * Everything that makes the GraphQL endpoint safe to put on the internet, as Apollo Server
 * options: introspection and the explorer (Sandbox, GraphiQL or none) by environment, document limits (tokens,
 * depth, aliases), the upstream-cost limit, persisted queries (APQ or a safelist), CSRF
 * prevention, no batching unless asked for, no "Did you mean …" in production.
 *
 * Reads the persisted query manifest when PERSISTED_QUERIES=safelist. With Redis, APQ documents
 * are registered in `sharedPersistedQueries` too (the fleet's registry).
 * @throws ConfigError when that manifest is missing, malformed or does not validate.
 */
export function exposureOptions(
  config: GatewayConfig,
  schema: GraphQLSchema,
  explorer: ExplorerOptions = {},
  sharedPersistedQueries?: KeyValueCache<string>,
): ExposureOptions {
  const manifest =
    config.limits.persistedQueries === 'safelist' && config.limits.persistedQueriesManifest !== undefined
      ? loadPersistedQueryManifest(config.limits.persistedQueriesManifest, schema)
      : undefined;
  const plugins: ApolloServerPlugin<GatewayContext>[] = [
    landingPagePlugin(config.http.explorer, explorer),
    // Apollo Server reads APOLLO_KEY / APOLLO_SCHEMA_REPORTING from the process environment on its
    // own and would then send usage and the schema to GraphOS. The gateway reports nowhere (its
    // configuration is loadConfig's alone), and as a subgraph its usage is the router's to report.
    ApolloServerPluginUsageReportingDisabled(),
    ApolloServerPluginSchemaReportingDisabled(),
    // Apollo turns on federated tracing for subgraphs: any caller sending
    // `apollo-federation-include-trace: ftv1` would get per-field timings. Only GraphOS
    // reporting uses them, and the gateway does not report there.
    ApolloServerPluginInlineTraceDisabled(),
    operationTypePlugin(),
    upstreamCostPlugin(schema, { maxUpstreamCalls: config.limits.maxUpstreamCalls, ...config.upstream.paging, ...config.limits.entities }),
  ];
  // The safelist check runs before the cost estimate: an unlisted operation is refused as such.
  if (manifest !== undefined) plugins.unshift(safelistPlugin(manifest, { introspection: config.limits.enableIntrospection }));
  return {
    // Always on for Apollo: ENABLE_INTROSPECTION=false is our own validation rule, whose message
    // names the setting (see IntrospectionDisabledRule).
    introspection: true,
    hideSchemaDetailsFromClientErrors: config.nodeEnv === 'production' || !config.limits.enableIntrospection,
    allowBatchedHttpRequests: config.http.allowBatching,
    // Apollo's default, spelled out: it must never be switched off by accident.
    csrfPrevention: true,
    persistedQueries: persistedQueriesOption(config.limits.persistedQueries, config.limits.apqCacheMaxBytes, manifest, sharedPersistedQueries),
    // graphql-js stops parsing past this many tokens: a huge document costs little CPU.
    parseOptions: { maxTokens: config.limits.maxTokens },
    validationRules: securityValidationRules({
      maxDepth: config.limits.maxDepth,
      maxAliases: config.limits.maxAliases,
      introspection: config.limits.enableIntrospection,
    }),
    plugins,
    safelisted: manifest === undefined ? undefined : manifestHashCheck(manifest),
  };
}
