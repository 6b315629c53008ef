import type { ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from '@apollo/server/plugin/disabled';
import type { GraphQLSchema } from 'graphql';
import type { GatewayConfig } from '../config/loadConfig';
import type { GatewayContext } from '../graphql/context';
import type { DocumentStore } from '../graphql/documentStore';
import { landingPagePlugin } from '../graphql/landingPage';
import { admissionPlugin, createAdmission } from './admission';
import { loadPersistedQueryManifest, manifestHashCheck, persistedQueriesOption, QueryRegistry, type FleetRegistry } from './persistedQueries';

/** @throws ConfigError when the PERSISTED_QUERIES=safelist manifest cannot be served. */
export function apolloOptions(
  config: GatewayConfig,
  schema: GraphQLSchema,
  documentStore: DocumentStore,
  demoToken?: string,
  fleetRegistry?: FleetRegistry,
) {
  const { limits } = config;
  const manifest = limits.persistedQueries === 'safelist' && limits.persistedQueriesManifest !== undefined
    ? loadPersistedQueryManifest(limits.persistedQueriesManifest, schema)
    : undefined;
  const admission = createAdmission(config, schema, documentStore, manifest && manifestHashCheck(manifest));
  const registry = limits.persistedQueries === 'apq' ? new QueryRegistry(limits.apqCacheMaxBytes, fleetRegistry) : undefined;
  const plugins: ApolloServerPlugin<GatewayContext>[] = [
    landingPagePlugin(config.http.explorer, demoToken),
    // Apollo reads APOLLO_KEY from the environment on its own and would report to GraphOS.
    ApolloServerPluginUsageReportingDisabled(),
    ApolloServerPluginSchemaReportingDisabled(),
    // Apollo turns on federated tracing (`ftv1`, per-field timings) for subgraphs, for GraphOS alone.
    ApolloServerPluginInlineTraceDisabled(),
    admissionPlugin(admission),
  ];
  const options = {
    // ENABLE_INTROSPECTION=false is our own validation rule, whose message names the setting.
    introspection: true,
    // graphql-js's own option, not hideSchemaDetailsFromClientErrors: its plugin is a hook per request.
    validationOptions: { hideSuggestions: admission.hideSuggestions },
    allowBatchedHttpRequests: config.http.allowBatching,
    // Apollo's default, spelled out: it must never be switched off by accident.
    csrfPrevention: true,
    persistedQueries: persistedQueriesOption(limits, manifest, registry),
    parseOptions: { maxTokens: limits.maxTokens },
    validationRules: admission.rules,
    documentStore,
    plugins,
  };
  return { options, admission, registry };
}
