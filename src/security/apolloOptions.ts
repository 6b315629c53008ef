import type { KeyValueCache } from '@apollo/utils.keyvaluecache';
import type { ApolloServerOptions, ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import type { GatewayConfig } from '../config/loadConfig';
import type { GatewayContext } from '../graphql/context';
import type { DocumentStore } from '../graphql/documentStore';
import { landingPagePlugin, type ExplorerOptions } from '../graphql/landingPage';
import { admissionPlugin, createAdmission, type Admission } from './admission';
import { manifestHashCheck, persistedQueriesOption } from './persistedQueries';
import { loadPersistedQueryManifest } from './persistedQueryManifest';
import { securityValidationRules } from './validationRules';

type SecurityOptions = Required<
  Pick<
    ApolloServerOptions<GatewayContext>,
    | 'introspection'
    | 'hideSchemaDetailsFromClientErrors'
    | 'allowBatchedHttpRequests'
    | 'csrfPrevention'
    | 'persistedQueries'
    | 'parseOptions'
    | 'validationRules'
    | 'documentStore'
    | 'plugins'
  >
>;

/** Document shapes remembered as valid: a few bytes each, and clients have few. */
const MAX_VALID_SHAPES = 10_000;

/**
 * The Apollo Server options that make the GraphQL endpoint safe to put on the internet:
 * introspection and the explorer (Sandbox, GraphiQL or none), the admission of every operation
 * (see createAdmission) with the same parse limit and rules Apollo applies, persisted queries (APQ,
 * with `sharedPersistedQueries` wrapping the replica's own cache, or a safelist), CSRF prevention, no
 * batching unless asked for, no "Did you mean …" in production. The admission serves WebSocket
 * subscriptions too.
 *
 * @throws ConfigError when the PERSISTED_QUERIES=safelist manifest is missing, malformed or does not validate.
 */
export function apolloOptions(
  config: GatewayConfig,
  schema: GraphQLSchema,
  documentStore: DocumentStore,
  explorer: ExplorerOptions = {},
  sharedPersistedQueries?: (local: KeyValueCache<string>) => KeyValueCache<string>,
): { readonly options: SecurityOptions; readonly admission: Admission } {
  const manifest =
    config.limits.persistedQueries === 'safelist' && config.limits.persistedQueriesManifest !== undefined
      ? loadPersistedQueryManifest(config.limits.persistedQueriesManifest, schema)
      : undefined;
  const validationRules = securityValidationRules({
    maxDepth: config.limits.maxDepth,
    maxAliases: config.limits.maxAliases,
    introspection: config.limits.enableIntrospection,
  });
  const hideSchemaDetails = config.nodeEnv === 'production' || !config.limits.enableIntrospection;
  const admission = createAdmission({
    schema,
    rules: validationRules,
    maxTokens: config.limits.maxTokens,
    store: documentStore,
    maxShapes: MAX_VALID_SHAPES,
    safelisted: manifest === undefined ? undefined : manifestHashCheck(manifest),
    introspection: config.limits.enableIntrospection,
    estimate: { ...config.upstream.paging, ...config.limits.entities },
    maxUpstreamCalls: config.limits.maxUpstreamCalls,
    maxItemsPerEvent: config.subscriptions.maxItemsPerEvent,
    hideSuggestions: hideSchemaDetails,
  });
  const plugins: ApolloServerPlugin<GatewayContext>[] = [
    landingPagePlugin(config.http.explorer, explorer),
    // Apollo reads APOLLO_KEY from the environment on its own and would report to GraphOS.
    ApolloServerPluginUsageReportingDisabled(),
    ApolloServerPluginSchemaReportingDisabled(),
    // Apollo turns on federated tracing (`ftv1`, per-field timings) for subgraphs, for GraphOS alone.
    ApolloServerPluginInlineTraceDisabled(),
    admissionPlugin(admission),
  ];
  const options: SecurityOptions = {
    // Always on for Apollo: ENABLE_INTROSPECTION=false is our own validation rule, whose message
    // names the setting (see IntrospectionDisabledRule).
    introspection: true,
    hideSchemaDetailsFromClientErrors: hideSchemaDetails,
    allowBatchedHttpRequests: config.http.allowBatching,
    // Apollo's default, spelled out: it must never be switched off by accident.
    csrfPrevention: true,
    persistedQueries: persistedQueriesOption(config.limits.persistedQueries, config.limits.apqCacheMaxBytes, manifest, sharedPersistedQueries),
    parseOptions: { maxTokens: config.limits.maxTokens },
    validationRules,
    documentStore,
    plugins,
  };
  return { options, admission };
}
