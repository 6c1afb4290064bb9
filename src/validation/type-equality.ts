/**
 * `true` when `A` and `B` are the same type. Ties a zod schema to the interface it validates:
 * `true satisfies Same<z.input<typeof schema>, Options>;` stops compiling as soon as a field is
 * added to, removed from or retyped in only one of the two.
 */
export type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
