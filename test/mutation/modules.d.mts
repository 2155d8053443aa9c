export interface MutationModule {
  readonly mutate: readonly string[];
  readonly tests: readonly string[];
}
export declare const mutationModules: Readonly<Record<string, MutationModule>>;
export declare function selectedModule(env?: NodeJS.ProcessEnv): MutationModule & { readonly name: string };
