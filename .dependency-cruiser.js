/**
 * The layering of src/, written once: a folder may import only the folders listed before it
 * (type-only imports included), so no folder imports another that imports it back.
 * `npm run lint:deps` checks it.
 */
const LAYERS = [
  'generated',
  'errors',
  'config',
  'observability',
  'pagination',
  'cache',
  'upstream',
  'mapping',
  'loaders',
  'graphql',
  'security',
  'http',
  'subscriptions',
  'redis',
  'tools',
];

const folder = (name) => `^src/${name}/`;

const layerRules = LAYERS.slice(0, -1).map((name, index) => ({
  name: `layer-${name}`,
  comment: `${name} imports only the layers listed before it in .dependency-cruiser.js`,
  severity: 'error',
  from: { path: folder(name) },
  to: { path: LAYERS.slice(index + 1).map(folder) },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'gateway-root-only',
      comment: 'gateway.ts and main.ts wire the layers; nothing below imports them',
      severity: 'error',
      from: { path: '^src/[^/]+/' },
      to: { path: '^src/(gateway|main)\\.ts$' },
    },
    {
      name: 'no-module-cycle',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'known-folders-only',
      comment: 'a new folder of src/ takes its place in LAYERS first',
      severity: 'error',
      from: { path: '^src/', pathNot: `^src/(${LAYERS.join('|')})/|^src/[^/]+\\.ts$` },
      to: {},
    },
  ],
  options: {
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
