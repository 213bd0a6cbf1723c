// Global declarations the shipped typings need, for TypeScript projects whose
// `lib` lacks them. Each merges with the lib's own declaration where that is
// present (the same member of the same interface), so it is harmless there;
// test/package/pack.test.ts compiles a browser, a worker and a Node project
// against the packed typings with `skipLibCheck: false`.

declare global {
  interface SymbolConstructor {
    /**
     * The well-known symbol of explicit resource management (`using`): in
     * TypeScript's `lib: esnext.disposable` only, so that a browser project
     * with `lib: ["ES2022", "DOM"]` would otherwise fail on our
     * `[Symbol.dispose]()` members.
     */
    readonly dispose: unique symbol;
  }
  // Declared in full by `lib: DOM` (and WebWorker); a Node project without
  // DOM has none of them (@types/node 20 declares no WebAssembly namespace).
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace WebAssembly {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface Memory {}
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface Module {}
  }
}

export {};
