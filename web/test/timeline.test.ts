import { describe, expect, it } from "vitest";
import { defaultPair, nearest, position, step } from "../src/timeline-logic";

const dates = ["2024-05-10", "2024-03-14", "2024-10-15", "2024-04-12"];

describe("timeline steps", () => {
  it("steps between scene dates in time order and stops at the ends", () => {
    expect(step(dates, "2024-04-12", 1)).toBe("2024-05-10");
    expect(step(dates, "2024-04-12", -1)).toBe("2024-03-14");
    expect(step(dates, "2024-03-14", -1)).toBe("2024-03-14");
    expect(step(dates, "2024-10-15", 1)).toBe("2024-10-15");
    expect(step(dates, undefined, -1)).toBe("2024-05-10");
    expect(step([], "2024-01-01", 1)).toBeUndefined();
  });

  it("starts from the nearest scene when the date is not a scene's", () => {
    expect(step(dates, "2024-04-20", 1)).toBe("2024-05-10");
    expect(nearest(dates, "2024-07-01")).toBe("2024-05-10");
    expect(nearest(dates, "2024-09-01")).toBe("2024-10-15");
  });

  it("places dates along the axis by time", () => {
    expect(position(dates, "2024-03-14")).toBe(0);
    expect(position(dates, "2024-10-15")).toBe(1);
    expect(position(dates, "2024-05-10")).toBeCloseTo(57 / 215, 6);
    expect(position(["2024-01-01"], "2024-01-01")).toBe(0.5);
  });

  it("pairs the date shown with the one before it unless the URL says otherwise", () => {
    expect(defaultPair(dates)).toEqual({ after: "2024-10-15", before: "2024-05-10" });
    expect(defaultPair(dates, "2024-03-14")).toEqual({ after: "2024-03-14", before: "2024-04-12" });
    expect(defaultPair(dates, "2024-10-15", "2024-03-14")).toEqual({ after: "2024-10-15", before: "2024-03-14" });
    expect(defaultPair(dates, "2023-01-01", "2024-10-15")).toEqual({ after: "2024-10-15", before: "2024-05-10" });
    expect(defaultPair([])).toEqual({ after: undefined, before: undefined });
  });
});
