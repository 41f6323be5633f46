/**
 * The import rules of src/, checked by `npm run lint:deps` (dependency-cruiser) before the
 * tests. docs/architecture.md shows the same layers as a table, and
 * test/architecture/layers.test.ts fails when the two disagree.
 *
 * Layers, top first. A module may import its own folder and any layer below its own; never a
 * layer above, nor a neighbour in its own row. So imports run one way and no two folders can
 * form a cycle, even when no single file does. A folder name stands for everything in it, a
 * name ending in `.ts` for that file of src/.
 */
const LAYERS = [
  ['index.ts'],
  ['commands', 'hooks'],
  ['cli'],
  ['dashboard'],
  ['inspect', 'shell', 'watch'],
  ['schema'],
  ['client', 'metrics'],
  ['runtime'],
  ['tracing'],
  ['transport'],
  ['config'],
  ['api'],
  ['core'],
  ['errors.ts'],
  ['error-data.ts', 'logging'],
  ['util', 'vendor'],
];

/** The paths a layer member stands for, as dependency-cruiser matches them (from the repository root). */
function pathOf(member) {
  const escaped = member.replace(/[.]/g, '\\.');
  return member.endsWith('.ts') ? `^src/${escaped}$` : `^src/${escaped}/`;
}

const everyMember = LAYERS.flat().map(pathOf);

const layerRules = LAYERS.flatMap((row, rowIndex) =>
  row.map((member) => {
    const above = LAYERS.slice(0, rowIndex).flat();
    const neighbours = row.filter((other) => other !== member);
    const forbidden = [...above, ...neighbours];
    return {
      name: `layer-${member}`,
      severity: 'error',
      comment: `src/${member} may import only its own ${member.endsWith('.ts') ? 'file' : 'folder'} and the layers below it (docs/architecture.md), not ${forbidden.join(', ')}`,
      from: { path: pathOf(member) },
      to: { path: forbidden.map(pathOf) },
    };
  }).filter((rule) => rule.to.path.length > 0),
);

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules that import each other, directly or through others, cannot be read or changed one at a time.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'in-a-layer',
      severity: 'error',
      comment: 'Every module of src/ belongs to a layer: add a new folder to LAYERS and to the table in docs/architecture.md.',
      from: { path: '^src/', pathNot: everyMember },
      to: {},
    },
    {
      name: 'to-a-layer',
      severity: 'error',
      comment: 'Every module of src/ belongs to a layer: add a new folder to LAYERS and to the table in docs/architecture.md.',
      from: { path: '^src/' },
      to: { path: '^src/', pathNot: everyMember },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    includeOnly: '^src/',
    // Type-only imports couple folders as much as any other: count them.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.build.json' },
  },
};

// For test/architecture/layers.test.ts; not enumerable, because dependency-cruiser rejects a
// config with keys of its own.
Object.defineProperty(module.exports, 'LAYERS', { value: LAYERS, enumerable: false });
