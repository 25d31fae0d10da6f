// How figures read in the UI: the same wording as the CLI ("10,220 m² = 63.1 % of the hall").

const intFormat = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
const oneDecimal = new Intl.NumberFormat("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });

export function squareMetres(value: number): string {
  return `${intFormat.format(value)} m²`;
}

export function metres(value: number): string {
  return value >= 1000 ? `${oneDecimal.format(value / 1000)} km` : `${oneDecimal.format(value)} m`;
}

export function percent(ratio: number): string {
  return `${oneDecimal.format(ratio * 100)} %`;
}

/** The measured sentence: a new structure's area against a reference outline the analyst drew. */
export function structureSentence(structureM2: number, referenceM2: number, referenceName = "the reference"): string {
  if (!(referenceM2 > 0)) throw new Error("the reference outline has no area");
  return `New structure of ${squareMetres(structureM2)} = ${percent(structureM2 / referenceM2)} of ${referenceName} (${squareMetres(referenceM2)})`;
}

/** YYYY-MM-DD of an ISO time (UTC), the date the catalog files a scene under. */
export function day(iso: string): string {
  return iso.slice(0, 10);
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}
