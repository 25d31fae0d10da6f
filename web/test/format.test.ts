import { describe, expect, it } from "vitest";
import { escapeHtml, metres, percent, squareMetres, structureSentence } from "../src/format";

describe("the measured sentence", () => {
  it("reads like the CLI's", () => {
    expect(structureSentence(10_220, 16_200)).toBe("New structure of 10,220 m² = 63.1 % of the reference (16,200 m²)");
    expect(structureSentence(10_220.4, 16_200, "the hall")).toContain("of the hall");
  });

  it("refuses a reference without an area", () => {
    expect(() => structureSentence(100, 0)).toThrow(/no area/);
    expect(() => structureSentence(100, Number.NaN)).toThrow(/no area/);
  });

  it("formats figures", () => {
    expect(squareMetres(1234.6)).toBe("1,235 m²");
    expect(metres(950.04)).toBe("950.0 m");
    expect(metres(1530)).toBe("1.5 km");
    expect(percent(0.631)).toBe("63.1 %");
    expect(escapeHtml(`<img src=x onerror="a">&'`)).toBe("&lt;img src=x onerror=&quot;a&quot;&gt;&amp;&#39;");
  });
});
