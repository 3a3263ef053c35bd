// The arrows allowed between Portcullis's parts (docs/architecture.md explains each).
// `npm run lint` fails on any error; a rule that still has violations is a warning that names
// them, until the work removing them lands.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'contract-is-a-leaf',
      comment: 'The wire contract (@portcullis/contract) is what every part agrees on: it imports nothing of ours.',
      severity: 'error',
      from: { path: '^pdp/contract/' },
      to: { path: '^(pdp|pep-agents|policies|test|bench)/', pathNot: '^pdp/contract/' },
    },
    {
      name: 'audit-does-not-decide',
      comment: 'The audit trail records what decisions and enrichment produced; it never reaches back into them.',
      severity: 'error',
      from: { path: '^pdp/src/audit/' },
      to: { path: '^pdp/src/(decisions|enrichment)/' },
    },
    {
      name: 'peps-use-only-the-contract-and-the-sdk',
      comment: 'A PEP installs without the PDP: of ours it imports only @portcullis/contract and the SDK (@portcullis/pep-core).',
      severity: 'error',
      from: { path: '^pep-agents/(?!core/)([^/]+)/src/' },
      to: { path: '^(pdp|policies|pep-agents)/', pathNot: ['^pdp/contract/', '^pep-agents/core/', '^pep-agents/$1/'] },
    },
    {
      name: 'sdk-uses-only-the-contract',
      comment: 'The PEP SDK is what every PEP installs: of ours it imports only @portcullis/contract.',
      severity: 'error',
      from: { path: '^pep-agents/core/src/' },
      to: { path: '^(pdp|policies|pep-agents)/', pathNot: ['^pdp/contract/', '^pep-agents/core/'] },
    },
    {
      name: 'suites-use-package-exports',
      comment: 'Cross-package suites and benches reach a package the way its users do, through its exports (`@portcullis/pdp`, `@portcullis/pep-postgres/testing`…), never by a path into its folders.',
      severity: 'error',
      from: { path: '^(test|bench)/' },
      to: { path: '^(pdp|pep-agents|policies)/', dependencyTypes: ['local'] },
    },
    {
      name: 'no-folder-cycles-in-the-pdp',
      comment: "The PDP's folders depend on each other one way (toward the contract): no folder reaches itself again.",
      severity: 'error',
      scope: 'folder',
      from: { path: '^pdp/src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules'] },
    exclude: { path: ['(^|/)node_modules/', '(^|/)dist/', '^(pdp|pep-agents/[^/]+)/test/', '^pdp/console/'] },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      // 'source': workspace packages resolve to their TypeScript (docs/build.md), not to dist/.
      conditionNames: ['source', 'import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.mjs', '.js', '.cjs', '.json'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
