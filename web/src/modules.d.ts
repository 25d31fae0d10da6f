// CommonJS plugins without their own types.
declare module "@maplibre/maplibre-gl-compare" {
  import type { Map } from "maplibre-gl";
  export default class Compare {
    constructor(a: Map, b: Map, container: string | HTMLElement, options?: { orientation?: "vertical" | "horizontal"; mousemove?: boolean });
    setSlider(x: number): void;
    remove(): void;
    on(type: "slideend", fn: (e: { currentPosition: number }) => void): this;
  }
}

declare module "@mapbox/mapbox-gl-sync-move" {
  import type { Map } from "maplibre-gl";
  /** Keeps the maps' cameras together; returns a function that stops it. */
  export default function syncMaps(...maps: Map[]): () => void;
}
