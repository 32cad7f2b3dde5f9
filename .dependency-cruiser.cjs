/**
 * The layer rules, checked by `npm run typecheck` (part of `npm test`). docs/design.md explains
 * the layers: core is pure and imports only core; adapters (mesh, runtime, store) never reach up
 * into the worker or the page; the page reaches the worker only through its client.
 */
const TESTS = '\\.test\\.ts$';
/** the libraries core may use: pure encoders with no I/O of their own */
const CORE_LIBRARIES = '^node_modules/(@msgpack/msgpack|@noble/hashes|onnx-proto)/';

module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', comment: 'dependencies point one way', from: {}, to: { circular: true } },
    {
      name: 'core-imports-only-core', severity: 'error',
      comment: 'src/core runs unchanged in Node, workers, the page, the CLI and the simulator',
      from: { path: '^src/core/', pathNot: TESTS },
      to: { pathNot: [`^src/core/`, CORE_LIBRARIES] },
    },
    { name: 'mesh-not-worker', severity: 'error', from: { path: '^src/mesh/' }, to: { path: '^src/(worker|page|ui)/' } },
    { name: 'runtime-not-worker', severity: 'error', from: { path: '^src/runtime/' }, to: { path: '^src/(worker|page|ui|mesh)/' } },
    { name: 'store-not-above', severity: 'error', from: { path: '^src/store/' }, to: { path: '^src/(worker|page|ui|mesh|runtime)/' } },
    {
      name: 'ui-not-worker', severity: 'error',
      comment: 'the dashboard sees the device through the page client and core types, never worker internals',
      from: { path: '^src/ui/' }, to: { path: '^src/worker/' },
    },
    { name: 'product-not-testing', severity: 'error', comment: 'src/testing holds unit-test fixtures only', from: { path: '^src/', pathNot: [TESTS, '^src/testing/'] }, to: { path: '^src/testing/' } },
    { name: 'worker-not-page', severity: 'error', from: { path: '^src/worker/' }, to: { path: '^src/(page|ui)/' } },
    { name: 'no-orphans-in-src', severity: 'error', from: { orphan: true, path: '^src/', pathNot: [TESTS, '\\.d\\.ts$', '^src/worker/device-worker\\.ts$', '^src/runtime/compute-worker(-wasm)?\\.ts$'] }, to: {} },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
