/**
 * The few Web APIs src/core may use: pure encoders every runtime we run in has (browsers, workers,
 * Node ≥ 18: the WinterTC minimum common API). Declared here, narrowly, because tsconfig.core.json
 * loads neither the DOM library nor Node's types; anything with a clock or I/O stays out of core.
 */
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean });
  decode(input?: ArrayBufferView | ArrayBuffer): string;
}
declare class URLSearchParams {
  constructor(init?: string);
  get(name: string): string | null;
}
declare function atob(data: string): string;
declare function btoa(data: string): string;
