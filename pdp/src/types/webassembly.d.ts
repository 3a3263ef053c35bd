// @types/node 20 ships no WebAssembly declarations and lib.dom would bring browser globals;
// declare only the part of the WebAssembly JS API the engine uses.
declare namespace WebAssembly {
  interface Module {
    readonly __brand?: 'WebAssembly.Module';
  }
  interface Memory {
    readonly buffer: ArrayBuffer;
  }
  interface Instance {
    readonly exports: Record<string, unknown>;
  }
  interface WebAssemblyInstantiatedSource {
    readonly instance: Instance;
    readonly module: Module;
  }
  interface MemoryDescriptor {
    initial: number;
    maximum?: number;
  }
  function compile(bytes: ArrayBufferView | ArrayBuffer): Promise<Module>;
}
