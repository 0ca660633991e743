/**
 * The allowed folder graph of src/ (`npm run lint:deps`, run by .ci/run).
 *
 * Each folder sits on a layer and may import its own files and the layers below it, nothing else.
 * Bottom to top:
 *
 *   domain        plain TypeScript (ids, ts, events, channel policy): imports nothing of ours
 *                 and no package (Node built-ins only)
 *   config        the one env schema
 *   db            the pool, migrations, the one Redis client factory (standalone or cluster)
 *   rate-limit    request budgets shared across nodes through Redis
 *   audit         the one append-only audit trail of admin actions
 *   crypto        envelope encryption and key providers (no job code)
 *   storage       file storage drivers (a local directory, an S3-compatible bucket)
 *   event-store   the append path, stream reads, cursors, checkpoints
 *   workspaces    workspaces, users, tokens
 *   projections   read models and the projector (no Slack methods: those are api/)
 *   jobs          queues, dispatcher, job runners
 *   api admin realtime replay health auth web
 *                 the surfaces: HTTP and sockets (auth: sign-in for people; web: the static
 *                 client). Side by side, they do not import each other, except the edges in
 *                 SURFACE_EDGES below
 *   app           src/*.ts: the Nest root module, createApp/createWorker, main
 *   cli           command-line entry points (may boot the app's module graph)
 *
 * Type-only imports count too. `no-circular` forbids cycles between files as well.
 */

/** Layers bottom up; each entry names folders of src/ (`app` is the files directly in src/). */
const LAYERS = [
  ['domain'],
  ['config'],
  ['db'],
  ['rate-limit'],
  ['audit'],
  ['crypto'],
  ['storage'],
  ['event-store'],
  ['workspaces'],
  ['projections'],
  ['jobs'],
  ['api', 'admin', 'realtime', 'replay', 'health', 'auth', 'web'],
  ['app'],
  ['cli'],
];

/**
 * The only imports between surfaces, each one way (so no cycle is possible):
 * - realtime -> api: the gateway is a delivery surface; socket commands (post, mark) call the api's
 *   use cases and reuse its argument classes and validation. The api never imports realtime: a
 *   moved read marker reaches sockets through ConversationsService.onMarked, which realtime
 *   subscribes to and relays on its ephemeral bus.
 * - admin -> api: the admin controllers look channels up through the api's ChannelsRepository; creating
 *   an app's incoming webhook joins its bot to the channel through ConversationsService (conversations.join).
 * - replay -> admin: the analysts' replay API is guarded by the admin guard and recorded by its audit
 *   interceptor; admin never imports replay.
 */
const SURFACE_EDGES = [
  { from: '^src/realtime/', to: '^src/api/(api\\.module|slack-args|(chat|conversations)/[^/]+\\.(service|dto))\\.ts$' },
  { from: '^src/admin/', to: '^src/api/(api\\.module|channels\\.repository|conversations/conversations\\.service)\\.ts$' },
  { from: '^src/replay/', to: '^src/admin/(admin\\.guard|admin-caller|audit\\.interceptor)\\.ts$' },
];

const folderPath = (folder) => (folder === 'app' ? '^src/[^/]+\\.ts$' : `^src/${folder}/`);
const regexOf = (paths) => `(${paths.join(')|(')})`;

/**
 * For each folder: a rule that it imports only itself and lower layers, plus its exceptions. A file
 * with exceptions of its own gets its own rule (and the folder rule skips it), so an exception never
 * opens more than the one import it names.
 */
function layerRules() {
  const exceptions = SURFACE_EDGES;
  return LAYERS.flatMap((layer, rank) => {
    const below = LAYERS.slice(0, rank).flat().map(folderPath);
    return layer.flatMap((folder) => {
      const home = folderPath(folder);
      const mine = exceptions.filter((e) => e.from.startsWith(home));
      const folderWide = mine.filter((e) => e.from === home).map((e) => e.to);
      const files = [...new Set(mine.map((e) => e.from).filter((from) => from !== home))];
      const rule = (from, extra) => ({
        name: `layers/${folder}`,
        severity: 'error',
        comment: `${folder} imports only itself and the layers below it (see the top of .dependency-cruiser.cjs)`,
        from,
        to: { path: '^src/', pathNot: regexOf([home, ...below, ...folderWide, ...extra]) },
      });
      return [
        rule(files.length ? { path: home, pathNot: regexOf(files) } : { path: home }, []),
        ...files.map((file) =>
          rule(
            { path: file },
            mine.filter((e) => e.from === file).map((e) => e.to),
          ),
        ),
      ];
    });
  });
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles, between folders or files.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'Every import resolves (a typo or a moved file shows here, not at run time).',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'unknown-folder',
      severity: 'error',
      comment: 'A new folder of src/ gets its place in LAYERS first.',
      from: { path: '^src/' },
      to: { path: '^src/', pathNot: regexOf(LAYERS.flat().map(folderPath)) },
    },
    {
      name: 'domain-is-plain',
      severity: 'error',
      comment: 'domain/ is plain TypeScript: Node built-ins only, no packages (no Nest, no pg).',
      from: { path: '^src/domain/' },
      to: { dependencyTypes: ['npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-bundled', 'npm-no-pkg', 'npm-unknown'] },
    },
    ...layerRules(),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Unit specs live next to the code; the rules are about the application.
    exclude: { path: '\\.spec\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // ESM packages (node-pg-migrate) resolve through their `exports` map, as Node does.
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
