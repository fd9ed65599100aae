/** The teacher-temperature warm-up of DINO (`teacher_temp_schedule` in facebookresearch/dino). */
export interface TeacherTemperatureSchedule {
  /** Temperature at step 0. */
  warmupTeacherTemp: number;
  /** Temperature from the end of the warm-up on. */
  teacherTemp: number;
  /** Number of warm-up steps W (DINO counts epochs; any unit works as long as `step` uses the same one). */
  warmupTeacherTempSteps: number;
}

/**
 * Teacher temperature at an integer `step` ≥ 0, exactly as DINO's
 * `np.linspace(warmup, teacher, W)` followed by `teacher` forever: for step < W the value is
 * `warmup + (teacher − warmup) · step / (W − 1)` (so the last warm-up step already reaches
 * `teacherTemp`; with W = 1 step 0 is `warmupTeacherTemp`), and `teacherTemp` from step W on.
 */
export function teacherTemperatureAt(step: number, schedule: TeacherTemperatureSchedule): number {
  if (!Number.isInteger(step) || step < 0) {
    throw new Error(`teacherTemperatureAt: step must be an integer >= 0, got ${step}`);
  }
  const { warmupTeacherTemp: from, teacherTemp: to, warmupTeacherTempSteps: w } = schedule;
  if (step >= w) return to;
  if (w === 1) return from;
  return from + ((to - from) * step) / (w - 1);
}
