// The test hook the tree view exposes (see src/features/tree/TreeCanvas.tsx).
export {};
declare global {
  interface Window {
    __treeDebug?: {
      nodeCount(): number;
      nodeIds(): string[];
      nodePosition(id: string): { x: number; y: number } | null;
      visibleCount(): number;
      dependencyEdges(): Array<[string, string]>;
      renderer: { layout: { index: Map<string, number>; refs: Array<{ lifecycle: string }> }; cached: boolean; draw(): void };
      glyphPx(): number;
      camera(): { scale: number; ox: number; oy: number };
      isHidden(id: string): boolean;
    };
    // The /__bench page's API (see src/bench/BenchPage.tsx).
    __benchReady?: boolean;
    __bench?: {
      tree(n: number): Promise<{ nodes: number }>;
      sceneCheck(): Promise<{
        cached: boolean;
        differing: number;
        maxDelta: number;
        pixels: number;
        afterSelect: { firstCached: boolean; cached: boolean; differing: number; maxDelta: number };
      }>;
    };
  }
}
