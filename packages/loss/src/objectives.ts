import { dinoObjective } from './dino-objective';
import { featuresObjective } from './features-objective';
import type { Objective, ObjectiveContext, ObjectiveSpec } from './objective';
import { contrastObjective } from './objectives/contrast-objective';

/** Every objective by the name configs use (`objective.kind`). Add one: a file with its spec, one line here. */
export const OBJECTIVES = {
  features: featuresObjective,
  dino: dinoObjective,
  contrast: contrastObjective,
} satisfies Record<string, ObjectiveSpec>;

export type ObjectiveKind = keyof typeof OBJECTIVES;

/** Builds the objective `kind` from its (already validated) options section. */
export function createObjective(
  kind: ObjectiveKind,
  options: unknown,
  ctx: ObjectiveContext,
  extra: { prototypes: number },
): Objective {
  const spec = OBJECTIVES[kind] as ObjectiveSpec | undefined;
  if (!spec) {
    throw new Error(`unknown objective '${kind}'; objectives: ${Object.keys(OBJECTIVES).join(', ')}`);
  }
  return spec.create(spec.options.parse(options ?? {}), ctx, extra);
}
