// Vitest setup (jsdom): tell React this is a test environment that handles act().
(globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = true;
export {};
