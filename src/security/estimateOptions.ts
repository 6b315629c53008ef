import type { GatewayConfig } from '../config/loadConfig';
import type { EstimateOptions } from './estimateUpstreamCalls';

/** The upstream-cost estimate's settings, the same for HTTP operations and subscription events. */
export function estimateOptionsOf(config: GatewayConfig): EstimateOptions {
  return {
    maxPageSize: config.cseMaxPageSize,
    defaultPageSize: config.defaultPageSize,
    engineListThreshold: config.federationEngineListThreshold,
    maxListPages: config.federationEngineListMaxPages,
  };
}
