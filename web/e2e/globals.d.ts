// The test hook the tree view exposes (see src/tree/TreeCanvas.tsx).
export {};
declare global {
  interface Window {
    __treeDebug?: {
      nodeCount(): number;
      nodeIds(): string[];
      nodePosition(id: string): { x: number; y: number } | null;
      visibleCount(): number;
      dependencyEdges(): Array<[string, string]>;
      renderer: { layout: { index: Map<string, number>; refs: Array<{ lifecycle: string }> } };
      glyphPx(): number;
      camera(): { scale: number; ox: number; oy: number };
      isHidden(id: string): boolean;
    };
  }
}
